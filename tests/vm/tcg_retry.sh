# Sourced by test_vm_driver.sh, test_vm_wsi.sh and test_vm_mesa.sh (POSIX sh).
# QEMU 10 under TCG now and then aborts by itself (an iotlb_to_section
# assertion) or stalls its virtio-gpu queue (the guest's hung-task check,
# which the guest scripts turn into a panic) while host-visible blobs are
# mapped and unmapped, or the whole guest stops (vm.py: no heartbeat, status
# 123); Mesa's Venus driver meets the same (docs/vm.md). A stall that Mesa's
# driver meets spinning in user space (no hung task: its program only times
# out) is marked by guest/programs.sh with a VENUS-VM-TCG-STALL line, where
# the run asked for that (Mesa's driver on virglrenderer only: none of our
# code serves it there).
#
# tcg_retry LOG COMMAND [ARG...]
#   runs COMMAND (vm.py run, or a shell function around it) with its stdout
#   and stderr shown and written to LOG; a run that ends one of the ways
#   above, and only that way, is repeated, at most four times (five attempts
#   in all). Returns the last attempt's status; LOG keeps its output, the
#   caller removes LOG. Its variables start with tr_: sh has no locals.

# vm.py's statuses: 121 the guest stopped (panicked), 122 QEMU ended
# abnormally, 123 the guest's heartbeat stopped
tcg_retry_pattern='iotlb_to_section: Assertion|hung_task: blocked tasks|blocked for more than'

tcg_retry_failed() { # STATUS LOG: did QEMU's TCG fail on its own?
   [ "$1" = 123 ] ||
      { { [ "$1" = 121 ] || [ "$1" = 122 ]; } && grep -q -E "$tcg_retry_pattern" "$2"; } ||
      { [ "$1" != 0 ] && grep -q '^VENUS-VM-TCG-STALL' "$2"; }
}

tcg_retry() {
   tr_log=$1
   shift
   tr_attempt=1
   while :; do
      # sh has no pipefail: the status goes through a file
      { "$@"; echo $? >"$tr_log.rc"; } 2>&1 | tee "$tr_log"
      tr_st=$(cat "$tr_log.rc" 2>/dev/null) || tr_st=1
      rm -f "$tr_log.rc"
      if tcg_retry_failed "$tr_st" "$tr_log" && [ "$tr_attempt" -lt 5 ]; then
         tr_attempt=$((tr_attempt + 1))
         echo "# QEMU's TCG failed on its own (known QEMU issue, see docs/vm.md); attempt $tr_attempt of 5"
         continue
      fi
      return "$tr_st"
   done
}
