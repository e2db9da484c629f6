#!/bin/sh
# The server dies under a running application: the driver must report
# VK_ERROR_DEVICE_LOST within a bounded time, without hanging or crashing.
#
# usage: test_device_lost.sh SERVER ICD_JSON PROGRAM   (PROGRAM: vn_sync_nomap)
set -u
server=$1
icd=$2
prog=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/venus-lost.XXXXXX") || exit 2
socket=$dir/venus.sock
spid=
ppid_=
cleanup() {
   [ -n "$spid" ] && kill -9 -"$spid" 2>/dev/null
   [ -n "$ppid_" ] && kill -9 "$ppid_" 2>/dev/null
   rm -rf "$dir"
}
trap cleanup EXIT

setsid "$server" --socket-path="$socket" >"$dir/server.log" 2>&1 &
spid=$!
i=0
while [ ! -S "$socket" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done

mkfifo "$dir/out"
VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd VTEST_SOCKET_NAME=$socket VENUS_TIMEOUT_MS=10000 \
   "$prog" --lost >"$dir/out" 2>"$dir/err" &
ppid_=$!
exec 3<"$dir/out"
read -r line <&3 || { echo "program did not start"; cat "$dir/err"; exit 1; }
[ "$line" = ready ] || { echo "unexpected output: $line"; exit 1; }
sleep 1
# the server and its per-client worker
kill -9 -"$spid"
spid=

i=0
while kill -0 "$ppid_" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$ppid_" 2>/dev/null; then
   echo "FAIL: the application still runs 30 s after the server died"
   exit 1
fi
wait "$ppid_"
rc=$?
ppid_=
cat <&3
cat "$dir/err"
if [ $rc -ne 0 ]; then
   echo "FAIL: exit status $rc (expected 0 after VK_ERROR_DEVICE_LOST)"
   exit 1
fi
echo "PASS: device lost reported"
