#!/bin/sh
# Runs the test programs of tests/integration/programs (and gl_zink, OpenGL ES
# on Zink: bin/vkt_gl_zink) through one ICD and
# compares each with its reference run (exit status 0, stdout and every file
# it wrote, byte for byte). Used in the guest (our driver, Mesa's Venus) and
# in the host chroot (the native reference runs, with --record).
#
# usage: programs.sh [--record] LABEL ICD_JSON BIN_DIR REF_DIR [PROGRAM...]
#   --record   write the outputs to REF_DIR/<program>/ instead of comparing
# Prints one TAP-style line per program ("ok - LABEL program" or "not ok -
# ..."), and the differences; exits with the number of failures.
# VKT_STALL_MARK=1: a program that timed out with Mesa's Venus driver's
# "stuck in ring seqno wait" in its stderr (a TCG stall of the virtio-gpu
# queue, which Mesa's driver waits out spinning, so no hung task shows it)
# adds a line "VENUS-VM-TCG-STALL ..." that tests/vm/tcg_retry.sh repeats
# the run on.
set -u
record=0
if [ "$1" = --record ]; then
   record=1
   shift
fi
label=$1
icd=$2
bin=$3
ref=$4
shift 4
programs=${*:-compute render transfer sync events queries hostmem extmem gpl gl_zink}
limit=${VKT_TIMEOUT:-300}
work=$(mktemp -d "${TMPDIR:-/tmp}/programs.XXXXXX") || exit 100
failed=0

for p in $programs; do
   out=$work/$label-$p
   mkdir -p "$out/files"
   VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd VKT_OUTPUT_DIR=$out/files VKT_SHADER_DIR=$bin \
      timeout "$limit" "$bin/vkt_$p" >"$out/stdout" 2>"$out/stderr"
   rc=$?
   if [ "$record" = 1 ]; then
      rm -rf "${ref:?}/$p"
      mkdir -p "$ref/$p"
      cp -r "$out/files" "$out/stdout" "$ref/$p/"
      echo "$rc" >"$ref/$p/rc"
      [ "$rc" = 0 ] && echo "ok - $label $p (recorded)" ||
         { echo "not ok - $label $p (exit status $rc)"; tail -n 5 "$out/stderr"; failed=$((failed + 1)); }
      continue
   fi
   why=
   if [ "$rc" != 0 ]; then
      [ "$rc" = 124 ] && why="timed out after ${limit}s" || why="exit status $rc"
   elif [ ! -s "$ref/$p/stdout" ] || [ "$(cat "$ref/$p/rc")" != 0 ]; then
      why="no passing reference run"
   elif ! cmp -s "$ref/$p/stdout" "$out/stdout"; then
      why="printed results differ from the reference"
   elif ! diff -r "$ref/$p/files" "$out/files" >/dev/null 2>&1; then
      why="output files differ from the reference"
   fi
   if [ -z "$why" ]; then
      echo "ok - $label $p ($(wc -l <"$out/stdout") result lines, $(ls "$out/files" | wc -l) files identical)"
   else
      failed=$((failed + 1))
      echo "not ok - $label $p: $why"
      if [ "$rc" = 124 ] && [ "${VKT_STALL_MARK:-0}" = 1 ] &&
         grep -q "stuck in ring seqno wait" "$out/stderr"; then
         echo "VENUS-VM-TCG-STALL $label $p: Mesa's driver stuck in a ring seqno wait"
      fi
      [ -f "$ref/$p/stdout" ] && diff -u --label reference --label "$label" "$ref/$p/stdout" \
         "$out/stdout" | head -n 20
      diff -r -q "$ref/$p/files" "$out/files" 2>&1 | head -n 5
      tail -n 10 "$out/stderr" | sed 's/^/    /'
   fi
done
rm -rf "$work"
exit $failed
