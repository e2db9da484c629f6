#!/bin/sh
# Runs one test program (tests/integration/programs/) twice, natively and through
# another ICD, and compares the results byte for byte: the exit status (both must
# pass), stdout (the programs print only deterministic `name unit value` lines
# there) and every file the program wrote into $VKT_OUTPUT_DIR (e.g. render.ppm).
# Prints a diff on mismatch and exits non-zero on any failure.
#
# usage: run_native_vs_icd.sh PROGRAM ICD_JSON [PROGRAM_ARGS...]
#
# Environment:
#   NATIVE_ICD     ICD json of the native run
#                  (default: lavapipe's, /usr/share/vulkan/icd.d/lvp_icd*.json)
#   VKT_TIMEOUT    seconds allowed per run (default 300)
#   KEEP_OUTPUT=1  keep the work directory even when both runs match
#   NATIVE_MAY_LACK=1  a native run that skips (77) skips the comparison even
#                  where the ICD has the feature (one the stack implements
#                  itself, such as a surface type older native drivers lack)
# Everything else is inherited by both runs, e.g. VKT_VALIDATION=1, or
# VTEST_SOCKET_NAME for an ICD that talks to an already running server. Do not
# pass an output path in PROGRAM_ARGS: both runs would write the same file.

set -u

if [ $# -lt 2 ]; then
   echo "usage: $0 PROGRAM ICD_JSON [PROGRAM_ARGS...]" >&2
   exit 2
fi
prog=$1
icd=$2
shift 2
# lavapipe's json: lvp_icd.x86_64.json on Debian 12, lvp_icd.json on Debian 13
native=${NATIVE_ICD:-$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -n 1)}
limit=${VKT_TIMEOUT:-300}
name=$(basename "$prog")

for f in "$native" "$icd"; do
   if [ ! -r "$f" ]; then
      echo "$name: ICD json $f is not readable" >&2
      exit 2
   fi
done
if [ ! -f "$prog" ] || [ ! -x "$prog" ]; then
   echo "$name: $prog is not executable" >&2
   exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vkt-compare.XXXXXX") || exit 2

# run LABEL ICD ARGS...: output in $work/LABEL.{out,err,rc} and $work/LABEL/
run() {
   label=$1
   json=$2
   shift 2
   mkdir -p "$work/$label"
   VK_DRIVER_FILES=$json VK_ICD_FILENAMES=$json VKT_OUTPUT_DIR=$work/$label \
      timeout "$limit" "$prog" "$@" >"$work/$label.out" 2>"$work/$label.err"
   echo $? >"$work/$label.rc"
}

run native "$native" "$@"
run icd "$icd" "$@"

# exit status 77: the program's feature is absent. Both runs skipping is a
# skip; only one of them skipping (the stack lost or invented the feature)
# fails below, unless NATIVE_MAY_LACK lets the native driver lack it.
if [ "$(cat "$work/native.rc")" = 77 ] && { [ "$(cat "$work/icd.rc")" = 77 ] ||
   [ "${NATIVE_MAY_LACK:-0}" = 1 ]; }; then
   echo "$name: SKIP (exit status 77 natively, $(cat "$work/icd.rc") through $icd):" \
        "$(tail -n 1 "$work/native.err")"
   rm -rf "$work"
   exit 77
fi

failed=0
for label in native icd; do
   rc=$(cat "$work/$label.rc")
   if [ "$rc" != 0 ]; then
      failed=1
      [ "$rc" = 124 ] && why="timed out after ${limit}s" || why="exit status $rc"
      echo "$name: $label run failed ($why); last lines of its stderr:" >&2
      tail -n 20 "$work/$label.err" | sed 's/^/    /' >&2
   fi
done

if ! cmp -s "$work/native.out" "$work/icd.out"; then
   failed=1
   echo "$name: printed results differ (--- native, +++ $icd):" >&2
   diff -u --label native --label icd "$work/native.out" "$work/icd.out" >&2
fi
if [ ! -s "$work/native.out" ]; then
   failed=1
   echo "$name: the native run printed no result lines" >&2
fi

# output files: same names, same bytes
(cd "$work/native" && find . -type f | sed "s|^\./||" | sort) >"$work/native.files"
(cd "$work/icd" && find . -type f | sed "s|^\./||" | sort) >"$work/icd.files"
if ! cmp -s "$work/native.files" "$work/icd.files"; then
   failed=1
   echo "$name: the runs wrote different files:" >&2
   diff -u --label native --label icd "$work/native.files" "$work/icd.files" >&2
fi
while read -r file; do
   [ -f "$work/icd/$file" ] || continue
   if ! cmp -s "$work/native/$file" "$work/icd/$file"; then
      failed=1
      count=$(cmp -l "$work/native/$file" "$work/icd/$file" 2>/dev/null | wc -l)
      echo "$name: output file $file differs ($count byte(s));" \
           "$(cmp "$work/native/$file" "$work/icd/$file" 2>&1 | head -n 1)" >&2
   fi
done <"$work/native.files"

if [ "$failed" != 0 ]; then
   echo "$name: FAIL (native vs $icd); outputs kept in $work" >&2
   exit 1
fi
echo "$name: PASS ($(wc -l <"$work/native.out") result line(s)," \
     "$(wc -l <"$work/native.files") file(s) identical)"
if [ "${KEEP_OUTPUT:-0}" = 1 ]; then
   echo "$name: outputs kept in $work"
else
   rm -rf "$work"
fi
exit 0
