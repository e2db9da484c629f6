#!/bin/sh
# VM tests of our driver (docs/vm.md): a Debian 13 guest in QEMU 10 whose
# virtio-gpu carries Venus to virglrenderer 1.1 on the host's lavapipe.
#
# usage: test_vm_driver.sh BUILD_DIR venus|novenus|vmm|vmm_hostile
#   venus    vulkaninfo names the Venus device; the nine test programs pass
#            and match native runs on the same lavapipe byte for byte; two
#            processes at once; the same for Mesa's Venus driver
#   novenus  QEMU venus=off: VK_ERROR_INCOMPATIBLE_DRIVER, one log line, the
#            loader moves on
#   vmm      as venus, but QEMU loads our VMM library (BUILD_DIR/src/vmm)
#            instead of virglrenderer; our driver gets memory fds there; no
#            context goes fatal (QEMU's log)
#   vmm_hostile  our VMM library: a guest process sending garbage (stream,
#            ring buffer, ring tail) loses only its own context (one fatal
#            line in QEMU's log for each), processes
#            beside and after it work, QEMU keeps running; QEMU SIGKILLed with
#            work in flight leaves no worker process behind
# The payload (our ICD, the programs, the reference outputs, guest/*.sh) is
# assembled in a temporary directory; tests/vm/vm.py boots the guest on it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
mode=$2
vm="python3 $here/vm.py"
if [ "$(id -u)" != 0 ]; then
   echo "SKIP: the VM harness needs root (mount and PID namespaces)"
   exit 77
fi

payload=$(mktemp -d "${TMPDIR:-/tmp}/venus-vm-payload.XXXXXX") || exit 1
trap 'rm -rf "$payload"' EXIT INT TERM

$vm image >/dev/null || exit 1

mkdir -p "$payload/lib" "$payload/bin" "$payload/ref"
cp "$build/src/driver/libvulkan_venus.so" "$payload/lib/" || exit 1
cat >"$payload/venus_icd.json" <<JSON
{"file_format_version": "1.0.0",
 "ICD": {"library_path": "/payload/lib/libvulkan_venus.so", "api_version": "1.3.239"}}
JSON
cp "$here"/guest/*.sh "$payload/"
# rounds of guest/driver.sh's two concurrent processes (a stress knob)
echo "${VENUS_VM_CONCURRENT_ROUNDS:-1}" >"$payload/concurrent_rounds"
for f in "$build"/tests/integration/programs/vkt_* "$build"/tests/integration/programs/*.spv; do
   [ -f "$f" ] && cp "$f" "$payload/bin/"
done
# OpenGL ES on Zink, run by programs.sh like the Vulkan programs
cp "$here/../integration/driver/gl_zink.py" "$payload/bin/vkt_gl_zink" || exit 1
[ -x "$payload/bin/vkt_compute" ] || { echo "the test programs are not built"; exit 1; }

# a run that ends in QEMU's own TCG failure is repeated (tcg_retry.sh)
. "$here/tcg_retry.sh"
run_vm() {
   tcg_retry "$payload.attempt" $vm run "$@"
   rv_st=$?
   rm -f "$payload.attempt"
   return "$rv_st"
}

record_native() {
   # native reference runs: the host chroot's lavapipe, the renderer's driver
   echo "# native reference runs on the host's lavapipe (Debian 13 tree)"
   $vm host --bind "$payload:/payload" -- sh -c \
      'sh /payload/programs.sh --record native "$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1)" /payload/bin /payload/ref' ||
      { echo "not ok - native reference runs failed"; exit 1; }
}

case $mode in
venus)
   record_native
   cp "$payload/driver.sh" "$payload/run.sh"
   # Mesa's driver on virglrenderer (none of our code): a program of it
   # stuck in a TCG stall repeats the run (tcg_retry.sh)
   touch "$payload/mesa_required" "$payload/mesa_no_fence_feedback" "$payload/tcg_stall_retry"
   timeout=${VENUS_VM_TIMEOUT:-400}
   run_vm --venus on --smp 1 --timeout "$timeout" "$payload"
   status=$?
   ;;
vmm)
   record_native
   cp "$payload/driver.sh" "$payload/run.sh"
   touch "$payload/mesa_required" "$payload/our_vmm_library"
   log=$payload.qemu.log
   trap 'rm -rf "$payload" "$log"' EXIT INT TERM
   run_vm --venus on --smp 1 --renderer-lib "$build/src/vmm" \
      --timeout "${VENUS_VM_TIMEOUT:-500}" --qemu-log "$log" "$payload"
   status=$?
   # correct programs, ours and Mesa's (whose vkt_extmem exits without
   # destroying its instance), leave no fatal context behind
   if grep -q 'fatal' "$log"; then
      echo "not ok - a context went fatal in QEMU's log:"
      grep 'fatal' "$log" | sed 's/^/#   /'
      [ "$status" = 0 ] && status=1
   else
      echo "ok - no fatal context in QEMU's log"
   fi
   ;;
vmm_hostile)
   record_native
   cp "$payload/vmm_hostile.sh" "$payload/run.sh"
   cp "$build/tests/vm/vmm_garbage" "$payload/bin/" || exit 1
   out=$payload.out
   log=$payload.qemu.log
   trap 'rm -rf "$payload" "$out" "$log"' EXIT INT TERM
   run_vm --venus on --smp 1 --renderer-lib "$build/src/vmm" \
      --timeout "${VENUS_VM_TIMEOUT:-450}" --qemu-log "$log" \
      --kill-qemu-on VENUS-VM-KILL-QEMU "$payload" >"$out" 2>&1
   status=$?
   cat "$out"
   echo "# QEMU's log:"
   sed 's/^/#   /' "$log"
   fail=0
   grep -q '^VMM-HOSTILE-FAILED 0' "$out" || { echo "not ok - guest checks"; fail=1; }
   grep -q "killing QEMU (SIGKILL)" "$out" ||
      { echo "not ok - QEMU did not keep running until the end"; fail=1; }
   if [ "$status" = 0 ]; then
      echo "ok - no worker process left after QEMU was killed"
   else
      echo "not ok - vm.py status $status (120: workers outlived QEMU)"
      fail=1
   fi
   # one per hostile context: stream, ring, ring-tail (guest/vmm_hostile.sh)
   lines=$(grep -c 'fatal' "$log")
   ours=$(grep -c '^\[venus renderer\] context [0-9]* (vmm_garbage): fatal: ' "$log")
   if [ "$lines" = 3 ] && [ "$ours" = 3 ]; then
      echo "ok - exactly three fatal lines in QEMU's log, one for each hostile context"
   else
      echo "not ok - fatal lines in QEMU's log: $lines, for the hostile contexts: $ours (want 3)"
      fail=1
   fi
   status=$fail
   ;;
novenus)
   cp "$payload/novenus.sh" "$payload/run.sh"
   run_vm --venus off --smp 1 --timeout "${VENUS_VM_TIMEOUT:-180}" "$payload"
   status=$?
   ;;
*)
   echo "usage: $0 BUILD_DIR venus|novenus|vmm|vmm_hostile" >&2
   exit 2
   ;;
esac
[ "$status" = 0 ] && echo "PASS ($mode)" || echo "FAIL ($mode): vm.py status $status"
exit $status
