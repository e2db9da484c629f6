#!/bin/sh
# The VM tests' repeat of runs that QEMU's TCG broke (tcg_retry.sh), without
# a VM: guest/programs.sh marks a program that timed out stuck in Mesa's ring
# seqno wait only where asked (VKT_STALL_MARK=1), and tcg_retry repeats a
# failed run with that mark, and no other failed run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tcg-retry.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
failed=0
check() { # NAME STATUS
   if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; failed=$((failed + 1)); fi
}

# fake test programs: stuck with Mesa's message, stuck without it, failing
# at once with it
mkdir -p "$work/bin" "$work/ref"
cat >"$work/bin/vkt_stuck" <<'SH'
#!/bin/sh
echo "MESA-VIRTIO: debug: stuck in ring seqno wait with iter at 4096" >&2
exec sleep 30
SH
cat >"$work/bin/vkt_quiet" <<'SH'
#!/bin/sh
exec sleep 30
SH
cat >"$work/bin/vkt_fails" <<'SH'
#!/bin/sh
echo "MESA-VIRTIO: debug: stuck in ring seqno wait with iter at 4096" >&2
exit 1
SH
chmod +x "$work/bin"/vkt_*
programs() { # VKT_STALL_MARK PROGRAM...
   mark=$1
   shift
   VKT_TIMEOUT=1 VKT_STALL_MARK=$mark sh "$here/guest/programs.sh" mesa /dev/null \
      "$work/bin" "$work/ref" "$@" 2>&1
}
out=$(programs 1 stuck)
echo "$out" | sed 's/^/#   /'
echo "$out" | grep -q '^VENUS-VM-TCG-STALL mesa stuck'
check "a timed-out program stuck in Mesa's seqno wait is marked" $?
out=$(programs 0 stuck)
! echo "$out" | grep -q 'VENUS-VM-TCG-STALL' && echo "$out" | grep -q '^not ok - mesa stuck: timed out'
check "not marked without VKT_STALL_MARK=1 (our VMM library), and still failed" $?
out=$(programs 1 quiet fails)
! echo "$out" | grep -q 'VENUS-VM-TCG-STALL' && [ "$(echo "$out" | grep -c '^not ok')" = 2 ]
check "a timeout without the message and a failure with it are not marked" $?

# tcg_retry: a run whose first attempt fails with the mark is repeated; a
# failure without it, or the mark in a run that passed, is not
. "$here/tcg_retry.sh"
attempt_run() { # FILE MARK STATUS...: attempt N exits with the Nth status
   f=$1
   mark=$2
   shift 2
   n=$(($(cat "$f" 2>/dev/null || echo 0) + 1))
   echo "$n" >"$f"
   eval "st=\${$n:-0}"
   [ "$mark" = 1 ] && echo "VENUS-VM-TCG-STALL mesa sync: Mesa's driver stuck in a ring seqno wait"
   echo "attempt $n: status $st"
   return "$st"
}
tcg_retry "$work/log1" attempt_run "$work/n1" 1 1 0 >/dev/null
st=$?
[ "$st" = 0 ] && [ "$(cat "$work/n1")" = 2 ]
check "a marked failure is repeated (status $st after $(cat "$work/n1") attempts)" $?
tcg_retry "$work/log2" attempt_run "$work/n2" 0 1 0 >/dev/null
st=$?
[ "$st" = 1 ] && [ "$(cat "$work/n2")" = 1 ]
check "an unmarked failure is not repeated (status $st after $(cat "$work/n2") attempts)" $?
tcg_retry "$work/log3" attempt_run "$work/n3" 1 1 1 1 1 1 1 >/dev/null
st=$?
[ "$st" = 1 ] && [ "$(cat "$work/n3")" = 5 ]
check "at most five attempts (status $st after $(cat "$work/n3") attempts)" $?
tcg_retry "$work/log4" attempt_run "$work/n4" 1 0 >/dev/null
st=$?
[ "$st" = 0 ] && [ "$(cat "$work/n4")" = 1 ]
check "a run that passed is not repeated" $?
echo "# $failed failed"
exit $failed
