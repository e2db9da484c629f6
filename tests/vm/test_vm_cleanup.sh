#!/bin/sh
# VM harness cleanup: runs that do not end normally report their distinct exit status
# and leave nothing behind.
#   1. run.sh powers the guest off without returning   -> status 121
#   2. run.sh outlives --timeout                        -> status 124
#   3. vm.py gets SIGTERM while run.sh runs             -> status 143
#   4. vm.py gets SIGKILL while the guest boots         -> (killed)
#   5. the guest stops altogether (QEMU SIGSTOPped while run.sh runs, as
#      QEMU's TCG now and then does by itself: docs/vm.md) -> status 123
# After each: no process carrying the run's VENUS_VM_RUN_ID (QEMU, Xvfb,
# virgl_render_server, unshare, vm.py's namespace process) is left, /proc/mounts is
# as before (nothing under the cache), no new file in the cache directory, in
# /dev/shm or in the TMPDIR given to vm.py. Other VM runs at the same time do not
# disturb these checks (their mounts are private, their processes carry another id).
#
# usage: test_vm_cleanup.sh   (needs root; the first run builds the cache)
# Prints PASS/FAIL lines; exits 0 when everything passed.
set -u
if [ "$(id -u)" != 0 ]; then
   echo "SKIP: the VM harness needs root (mount and PID namespaces)"
   exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
vm=$here/vm.py
failed=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

# the first call may build the cache (and print its progress)
"$vm" image || { echo "FAIL: vm.py image"; exit 1; }
cache=$("$vm" image) || { echo "FAIL: vm.py image"; exit 1; }
cache_root=$(dirname "$cache")

work=$(mktemp -d "${TMPDIR:-/tmp}/test_vm_cleanup.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# state FILE: what a run must not leave behind
state() {
   {
      grep -l -a -z -x "VENUS_VM_RUN_ID=$tag" /proc/[0-9]*/environ 2>/dev/null |
         while read -r env; do
            d=${env%/environ}
            echo "process ${d#/proc/} $(cat "$d/comm" 2>/dev/null)"
         done
      sed 's/^/mount /' /proc/mounts
      for dir in "$work/tmp" /dev/shm "$cache_root" "$cache/mnt"; do
         find "$dir" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's/^/file /'
      done
   } | sort
}

# vmpy CASE ARGS...: vm.py with its own VENUS_VM_RUN_ID and TMPDIR
vmpy() {
   tag=test_vm_cleanup.$$.$1
   shift
   VENUS_VM_RUN_ID=$tag TMPDIR=$work/tmp "$vm" "$@"
}

# check LABEL: compares the state with the one before the run
check_clean() {
   state >"$work/after"
   if cmp -s "$work/before" "$work/after"; then
      pass "$1: no process, mount or file left behind"
   else
      fail "$1: left behind (+) or removed (-):"
      diff "$work/before" "$work/after" | sed -n 's/^> /   + /p; s/^< /   - /p'
   fi
   if grep -q " $cache_root" /proc/mounts; then
      fail "$1: a mount under $cache_root"
   fi
}

# expect LABEL WANT_STATUS GOT_STATUS MESSAGE_REGEX: checks status and message
expect() {
   if [ "$3" -eq "$2" ]; then
      pass "$1: vm.py exited with status $3"
   else
      fail "$1: vm.py exited with status $3, expected $2"
   fi
   if grep -Eq "$4" "$work/out"; then
      pass "$1: vm.py said: $(grep -E "$4" "$work/out" | head -n 1)"
   else
      fail "$1: no line matching '$4' in vm.py's output"
   fi
}

# running LABEL: the run's QEMU is found by its id (so the checks after it mean
# something)
running() {
   if state | grep -q '^process .* qemu-system'; then
      pass "$1: the run's QEMU is found by VENUS_VM_RUN_ID before the signal"
   else
      fail "$1: no QEMU with VENUS_VM_RUN_ID=$tag before the signal"
   fi
}

# wait_for REGEX SECONDS: until vm.py's output (in the background) has a line
wait_for() {
   i=0
   while ! grep -Eq "$1" "$work/out" 2>/dev/null; do
      i=$((i + 1))
      if [ $i -gt $(($2 * 10)) ]; then
         return 1
      fi
      sleep 0.1
   done
}

mkdir "$work/poweroff" "$work/sleep" "$work/tmp"
cat >"$work/poweroff/run.sh" <<'GUEST'
echo "run.sh: powering off"
echo o >/proc/sysrq-trigger
# wait in the shell itself: the disk goes away during the power-off, and a
# program loaded from it now (sleep) can die of a failed page-in first,
# ending run.sh with its status instead of the power-off
while :; do :; done
GUEST
cat >"$work/sleep/run.sh" <<'GUEST'
echo "run.sh: sleeping"
sleep 600
GUEST

# 1. power-off in the middle of run.sh
tag=test_vm_cleanup.$$.poweroff
state >"$work/before"
vmpy poweroff run --timeout 300 "$work/poweroff" >"$work/out" 2>&1
status=$?
cat "$work/out"
expect "power-off" 121 $status 'guest stopped before run.sh finished'
check_clean "power-off"

# 2. timeout; long enough for the guest to reach run.sh (a guest that only
# sleeps keeps its heartbeat: not taken for a frozen one)
tag=test_vm_cleanup.$$.timeout
state >"$work/before"
vmpy timeout run --timeout 75 --frozen-after 20 "$work/sleep" >"$work/out" 2>&1
status=$?
cat "$work/out"
expect "timeout" 124 $status 'timeout: run.sh did not finish'
grep -q '^run.sh: sleeping' "$work/out" ||
   echo "note: the guest did not reach run.sh within 75 s (slow boot)"
check_clean "timeout"

# 3. SIGTERM to vm.py while run.sh runs
tag=test_vm_cleanup.$$.sigterm
state >"$work/before"
VENUS_VM_RUN_ID=$tag TMPDIR=$work/tmp "$vm" run --timeout 300 "$work/sleep" >"$work/out" 2>&1 &
pid=$!
if ! wait_for '^run.sh: sleeping' 120; then
   echo "note: the guest did not reach run.sh within 120 s; sending SIGTERM anyway"
fi
running "SIGTERM"
kill -TERM $pid
wait $pid
status=$?
cat "$work/out"
expect "SIGTERM" 143 $status 'interrupted by SIGTERM'
check_clean "SIGTERM"

# 4. SIGKILL to vm.py while the guest boots: the namespaces die with it
tag=test_vm_cleanup.$$.sigkill
state >"$work/before"
VENUS_VM_RUN_ID=$tag TMPDIR=$work/tmp "$vm" run --timeout 300 "$work/sleep" >"$work/out" 2>&1 &
pid=$!
wait_for 'starting QEMU' 60 && sleep 3
running "SIGKILL"
kill -KILL $pid
wait $pid
status=$?
echo "vm.py killed (status $status)"
# the kernel tears the namespaces down asynchronously; give it a moment
i=0
while [ $i -lt 50 ]; do
   state >"$work/after"
   cmp -s "$work/before" "$work/after" && break
   sleep 0.2
   i=$((i + 1))
done
check_clean "SIGKILL"

# 5. a frozen guest: QEMU stopped (SIGSTOP) while run.sh sleeps; vm.py sees
# no heartbeat for --frozen-after seconds and kills it
tag=test_vm_cleanup.$$.frozen
state >"$work/before"
VENUS_VM_RUN_ID=$tag TMPDIR=$work/tmp "$vm" run --timeout 300 --frozen-after 20 \
   "$work/sleep" >"$work/out" 2>&1 &
pid=$!
if ! wait_for '^run.sh: sleeping' 120; then
   echo "note: the guest did not reach run.sh within 120 s; stopping QEMU anyway"
fi
sleep 6 # a heartbeat or two
running "frozen"
qemu=$(state | sed -n 's/^process \([0-9]*\) qemu-system.*/\1/p' | head -n 1)
[ -n "$qemu" ] && kill -STOP "$qemu"
t0=$(date +%s)
wait $pid
status=$?
cat "$work/out"
expect "frozen" 123 $status 'guest frozen: no heartbeat for 20 s'
took=$(($(date +%s) - t0))
if [ "$took" -ge 14 ] && [ "$took" -le 120 ]; then
   pass "frozen: vm.py ended $took s after QEMU stopped"
else
   fail "frozen: vm.py ended $took s after QEMU stopped (want 15-20 s: the last beat came up to 5 s before the stop)"
fi
check_clean "frozen"

exit $failed
