#!/bin/sh
# The renderer's lazy head (docs/renderer.md, "Rings"): with our driver,
# inside batches of cheap commands (here vkbench's buffer churn) the head is
# stored far less often than once per command, and with
# VENUS_PERF=precise_head after every one. The counts come from the ring
# thread's exit line (VENUS_DEBUG=ring); the end of a batch always stores
# the head, so only the commands and stores inside batches are compared.
#
# usage: test_lazy_head.sh VENUS_RUN VKBENCH
set -u
venus_run=$1
vkbench=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/lazy-head.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# prints "COMMANDS STORES" inside batches, summed over the rings of one run
counts() {
   VENUS_DEBUG=ring VENUS_PERF=${1:-} "$venus_run" --keep-log "$vkbench" --short --workload churn \
      >"$work/out" 2>"$work/err" || { echo "vkbench failed:" >&2; tail -n 20 "$work/err" >&2; return 1; }
   sed -n 's/.*thread exits.* (\([0-9]*\) inside batches), [0-9]* head stores (\([0-9]*\) inside batches).*/\1 \2/p' \
      "$work/err" | awk '{ c += $1; s += $2 } END { print c + 0, s + 0 }'
}

fail=0
# shellcheck disable=SC2046 # two numbers
set -- $(counts) || exit 1
echo "lazy head: $1 commands inside batches, $2 head stores there"
if [ "$1" -lt 1000 ] || [ $(($2 * 8)) -gt "$1" ]; then
   echo "expected >= 1000 commands inside batches and at most one store per 8 of them" >&2
   fail=1
fi
# shellcheck disable=SC2046
set -- $(counts precise_head) || exit 1
echo "precise_head: $1 commands inside batches, $2 head stores there"
if [ "$1" -lt 1000 ] || [ $(($2 * 10)) -lt $(($1 * 9)) ]; then
   echo "expected >= 1000 commands inside batches and a store after about every one" >&2
   fail=1
fi
exit $fail
