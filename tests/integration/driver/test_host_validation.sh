#!/bin/sh
# Test programs through our driver and server with Khronos' validation layer
# in the renderer (VENUS_DEBUG=validate), so that it checks the host calls the
# renderer makes for them: each program must pass (or skip, 77) and the
# layer must report nothing (but the known errors of vkt_extmem below).
#
# usage: test_host_validation.sh [--elided N] [--unwritten N] [--rechained N]
#           [--parallel N [--recorded N] [--recorders] [--ignore RE]] VENUS_RUN PROGRAM...
#
# A PROGRAM may carry its arguments, separated by spaces ("vkbench --workload
# commands").
#
# --elided N: the driver must also have sent at least N fence-only
# submissions to the host without their fences (docs/driver.md, "Fence
# elision"; the count it logs with VENUS_DEBUG=roundtrip). The layer then
# checks that none of the host's command buffers was freed or destroyed while
# a submission that used it was unretired.
#
# --unwritten N: and at least N fence or timeline signals without their
# feedback write (frames in flight; docs/driver.md, "Feedback"; logged
# likewise).
#
# --parallel N: the renderer records with parallel recording forced on
# (VENUS_PERF=parallel_record; docs/renderer.md, "Parallel recording"), it
# must have taken at least N calls in all (the count it logs with
# VENUS_DEBUG=init), and each program must print the same as with parallel
# recording off (--ignore RE: but lines matching RE, such as
# timings). --recorded N: its recorder threads must also have recorded at
# least N segments in all; --recorders: every segment, however short, goes
# to them (VENUS_DEBUG=recorders).
#
# --rechained N: the renderer must have created at least N buffers (in all)
# without the host-allocation chain and again with it at their bind to
# host-pointer memory (docs/renderer.md, "Resources over imported host
# memory"; the count it logs with VENUS_DEBUG=init).
#
# Any report fails, including VUID-vkBindBufferMemory-memory-02727 /
# -vkBindImageMemory-memory-02729 (02985 / 02989 in Debian 13's layer):
# resources bound to memory the renderer imported from a host pointer, if
# they were created without HOST_ALLOCATION among their external handle
# types. Known and left (docs/renderer.md, "Validity of the host calls"):
# vkt_extmem's buffers and images, which the guest creates with its own
# external handle types (OPAQUE_FD), are bound to exported host-visible
# memory, which the renderer imports from a host pointer; for vkt_extmem
# alone those four are not counted.
set -u
elided_min=
unwritten_min=
parallel_min=
recorded_min=0
rechained_min=
all_to_recorders=
compare_filter=
while :; do
   case "${1:-}" in
   --elided) elided_min=$2; shift 2 ;;
   --unwritten) unwritten_min=$2; shift 2 ;;
   --parallel) parallel_min=$2; shift 2 ;;
   --ignore) compare_filter=$2; shift 2 ;;
   --recorded) recorded_min=$2; shift 2 ;;
   --rechained) rechained_min=$2; shift 2 ;;
   --recorders) all_to_recorders=,recorders; shift ;;
   *) break ;;
   esac
done
venus_run=$1
shift

if [ ! -r /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json ]; then
   echo "test_host_validation: the Khronos validation layer is not installed" >&2
   exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/host-validation.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

fail=0
perf=${VENUS_PERF:-}
debug=validate,roundtrip
if [ -n "$parallel_min" ]; then
   perf=parallel_record
   debug=$debug,init$all_to_recorders
fi
[ -n "$rechained_min" ] && debug=$debug,init
# check_count MIN SED_SCRIPT SUBJECT WITHOUT: the number SED_SCRIPT finds in
# the program's stderr must be at least MIN
check_count() {
   n=$(sed -n "$2" "$work/err" | head -n 1)
   if [ -z "$n" ] || [ "$n" -lt "$1" ]; then
      echo "$name: ${n:-no} $3 went $4, expected >= $1" >&2
      return 1
   fi
   echo "$name: $3 $4: $n"
}

recorded_all=0
taken_all=0
rechained_all=0
for prog in "$@"; do
   name=$(basename "${prog%% *}")
   # shellcheck disable=SC2086 # a program with its arguments
   VENUS_PERF=$perf VENUS_DEBUG=$debug "$venus_run" --keep-log $prog >"$work/out" 2>"$work/err"
   rc=$?
   bad=0
   if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
      echo "$name: exited with $rc" >&2
      bad=1
   fi
   known='^$'
   [ "$name" = vkt_extmem ] &&
      known='^VUID-vkBind\(Buffer\|Image\)Memory-memory-0\(2727\|2729\|2985\|2989\)$'
   grep -o 'VUID-[A-Za-z0-9_-]*\|UNASSIGNED-[A-Za-z0-9_-]*' "$work/err" | grep -v -e "$known" |
      sort | uniq -c >"$work/vuids"
   if [ -s "$work/vuids" ]; then
      echo "$name: validation errors in the renderer:" >&2
      cat "$work/vuids" >&2
      grep 'Validation Error' "$work/err" | head -n 3 >&2
      bad=1
   fi
   # the counts the driver logs at vkDestroyDevice with VENUS_DEBUG=roundtrip
   counts='.*device: [0-9]* synchronous round trips, \([0-9]*\) submissions without their host fence, \([0-9]*\) fence or timeline signals.*'
   if [ -n "$elided_min" ]; then
      check_count "$elided_min" "s/$counts/\\1/p" "fence-only submissions" \
         "without their host fence" || bad=1
   fi
   if [ -n "$unwritten_min" ]; then
      check_count "$unwritten_min" "s/$counts/\\2/p" "fence or timeline signals" \
         "without their feedback write" || bad=1
   fi
   if [ -n "$parallel_min" ]; then
      taken=$(sed -n 's/.*parallel recording: \([0-9]*\) calls taken.*/\1/p' "$work/err" |
              awk '{ n += $1 } END { print n + 0 }')
      recorded=$(sed -n 's/.*parallel recording: .* \([0-9]*\) segments recorded by them.*/\1/p' \
                 "$work/err" | awk '{ n += $1 } END { print n + 0 }')
      taken_all=$((taken_all + taken))
      recorded_all=$((recorded_all + recorded))
      # shellcheck disable=SC2086
      VENUS_PERF=no_parallel_record "$venus_run" $prog >"$work/out.direct" 2>/dev/null
      if [ -n "$compare_filter" ]; then
         grep -v -e "$compare_filter" "$work/out" >"$work/out.f"
         grep -v -e "$compare_filter" "$work/out.direct" >"$work/out.direct.f"
         mv "$work/out.f" "$work/out"
         mv "$work/out.direct.f" "$work/out.direct"
      fi
      if ! cmp -s "$work/out" "$work/out.direct"; then
         echo "$name: prints otherwise than with parallel recording off:" >&2
         diff "$work/out.direct" "$work/out" | head -n 10 >&2
         bad=1
      fi
      echo "$name: calls taken: $taken, segments recorded by the recorders: $recorded"
   fi
   if [ -n "$rechained_min" ]; then
      rechained=$(sed -n 's/.*: \([0-9]*\) buffers created again with the host-allocation chain.*/\1/p' \
                  "$work/err" | awk '{ n += $1 } END { print n + 0 }')
      rechained_all=$((rechained_all + rechained))
      echo "$name: buffers given the host-allocation chain at their bind: $rechained"
   fi
   if [ $bad -ne 0 ]; then
      echo "--- $name stderr:" >&2
      tail -n 20 "$work/err" >&2
      fail=1
   else
      echo "$name: ok (exit $rc)"
   fi
done
if [ -n "$parallel_min" ] && [ "$taken_all" -lt "$parallel_min" ]; then
   echo "parallel recording took $taken_all calls in all, expected >= $parallel_min" >&2
   fail=1
fi
if [ -n "$parallel_min" ] && [ "$recorded_all" -lt "$recorded_min" ]; then
   echo "the recorders recorded $recorded_all segments in all, expected >= $recorded_min" >&2
   fail=1
fi
if [ -n "$rechained_min" ] && [ "$rechained_all" -lt "$rechained_min" ]; then
   echo "the renderer gave $rechained_all buffers the host-allocation chain at their bind," \
        "expected >= $rechained_min" >&2
   fail=1
fi
exit $fail
