#!/bin/sh
# The worker sandbox on real workers (docs/sandbox.md):
# 1. a worker serving a client runs with a seccomp filter, no new
#    privileges, not dumpable and without core dumps (/proc/PID/status, limits);
# 2. a forbidden call from inside a worker (execve, made by a stand-in for a
#    subverted host driver, sandbox_exec_shim.so, when the guest creates its
#    instance) kills that worker alone with one log line naming the call,
#    while the server, a client running beside it and a new client carry on.
#
# usage: test_sandbox_worker.sh SERVER ICD_JSON SHIM LONG_CLIENT VICTIM GOOD_CLIENT
#   LONG_CLIENT: vn_sync_nomap (--lost: runs until the server goes away)
#   VICTIM: vkt_transfer (application name "transfer"); GOOD_CLIENT: vkt_compute
set -u
server=$1
icd=$2
shim=$3
long_client=$4
victim=$5
good_client=$6
dir=$(mktemp -d "${TMPDIR:-/tmp}/venus-sandbox.XXXXXX") || exit 2
socket=$dir/venus.sock
spid=
lpid=
cleanup() {
   [ -n "$lpid" ] && kill -9 "$lpid" 2>/dev/null
   [ -n "$spid" ] && kill -9 -"$spid" 2>/dev/null
   rm -rf "$dir"
}
trap cleanup EXIT
fail() {
   echo "FAIL: $*"
   echo "--- server log"
   cat "$dir/server.log"
   exit 1
}

unset VENUS_SANDBOX
# after any preload of the caller's (CI's ASan runtime must come first)
LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }$shim" VENUS_TEST_FORBIDDEN_APP=transfer \
   setsid "$server" --socket-path="$socket" >"$dir/server.log" 2>&1 &
spid=$!
i=0
while [ ! -S "$socket" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$socket" ] || fail "the server did not start"

export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd" VTEST_SOCKET_NAME="$socket"

# a client that keeps its worker busy through all of the test
mkfifo "$dir/out"
VENUS_TIMEOUT_MS=10000 "$long_client" --lost >"$dir/out" 2>"$dir/long.err" &
lpid=$!
exec 3<"$dir/out"
read -r line <&3 || fail "the long-running client did not start: $(cat "$dir/long.err")"
[ "$line" = ready ] || fail "unexpected output: $line"

# 1. its worker is sandboxed
worker=$(cat /proc/"$spid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -n 1)
[ -n "$worker" ] || fail "no worker process under the server"
status=$(cat /proc/"$worker"/status) || fail "no /proc/$worker/status"
echo "$status" | grep -q '^Seccomp:[[:space:]]*2$' || fail "worker $worker: no seccomp filter"
echo "$status" | grep -q '^NoNewPrivs:[[:space:]]*1$' || fail "worker $worker: no no_new_privs"
grep -q '^Max core file size *0 *0 ' /proc/"$worker"/limits ||
   fail "worker $worker: core dumps allowed"
# not dumpable: /proc/PID files of a non-dumpable process belong to root
[ "$(stat -c %u /proc/"$worker"/mem)" = 0 ] || fail "worker $worker is dumpable"
echo "worker $worker: Seccomp 2, NoNewPrivs 1, no core dumps, not dumpable"

# 2. a forbidden call in another worker
"$victim" >"$dir/victim.out" 2>&1 && fail "the victim client succeeded: $(cat "$dir/victim.out")"
i=0
while ! grep -q 'killed by the sandbox: forbidden system call [0-9]* (execve)' \
      "$dir/server.log" && [ $i -lt 50 ]; do
   sleep 0.1
   i=$((i + 1))
done
grep 'killed by the sandbox' "$dir/server.log" || fail "no sandbox line in the server log"
[ "$(grep -c 'killed by the sandbox' "$dir/server.log")" = 1 ] ||
   fail "more than one worker was killed"
kill -0 "$spid" 2>/dev/null || fail "the server died"
kill -0 "$lpid" 2>/dev/null || fail "the long-running client died: $(cat "$dir/long.err")"
kill -0 "$worker" 2>/dev/null || fail "the long-running client's worker died"

# a new client is served as before
"$good_client" >"$dir/good.out" 2>&1 || fail "a new client failed: $(cat "$dir/good.out")"
kill -0 "$lpid" 2>/dev/null || fail "the long-running client died: $(cat "$dir/long.err")"

# the long-running client ends with the server (VK_ERROR_DEVICE_LOST, status 0)
kill -TERM "$spid"
spid_=$spid
spid=
i=0
while kill -0 "$lpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
wait "$lpid"
rc=$?
lpid=
[ $rc -eq 0 ] || fail "the long-running client ended with status $rc: $(cat "$dir/long.err")"
kill -9 -"$spid_" 2>/dev/null
echo "PASS: the sandbox killed one worker; the server and the other clients carried on"
