#!/bin/sh
# Fence elision (docs/driver.md): vkt_sync through our driver and server,
# with Khronos' validation layer in the renderer (VENUS_DEBUG=validate), so
# that it checks the renderer's host calls. The driver sends fence-only submissions to the
# host without their fences; the test asserts that it did (the count the
# driver logs with VENUS_DEBUG=roundtrip) and that the host never saw a
# command buffer freed or destroyed while a submission that used it was
# unretired, nor any other validation error, except the two known ones below.
#
# usage: test_fence_elision.sh VENUS_RUN VKT_SYNC
#
# Known and left (docs/renderer.md, "Validity of the host calls"): buffers and images
# bound to memory the renderer imported from a host pointer were not
# created with VkExternalMemory{Buffer,Image}CreateInfo naming host
# allocations (VUID-vkBindBufferMemory-memory-02727, -ImageMemory-02729).
set -u
venus_run=$1
prog=$2

layer_json=$(ls /usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json 2>/dev/null)
if [ -z "$layer_json" ]; then
   echo "test_fence_elision: the Khronos validation layer is not installed" >&2
   exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fence-elision.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# validate: the layer in the renderer; roundtrip: the driver's counts
VENUS_DEBUG=validate,roundtrip "$venus_run" --keep-log "$prog" >"$work/out" 2>"$work/err"
rc=$?
fail=0
if [ $rc -ne 0 ]; then
   echo "test_fence_elision: $prog exited with $rc" >&2
   fail=1
fi

elided=$(sed -n 's/.*device: [0-9]* synchronous round trips, \([0-9]*\) submissions without their host fence.*/\1/p' \
         "$work/err" | head -n 1)
if [ -z "$elided" ]; then
   echo "test_fence_elision: the driver logged no count of elided fences" >&2
   fail=1
elif [ "$elided" -lt 16 ]; then
   echo "test_fence_elision: $elided fence-only submissions went without their host fence, expected >= 16" >&2
   fail=1
else
   echo "fence-only submissions without their host fence: $elided"
fi

grep -o 'VUID-[A-Za-z0-9_-]*\|UNASSIGNED-[A-Za-z0-9_-]*' "$work/err" |
   grep -v -x -e 'VUID-vkBindBufferMemory-memory-02727' \
      -e 'VUID-vkBindImageMemory-memory-02729' | sort | uniq -c >"$work/vuids"
if [ -s "$work/vuids" ]; then
   echo "test_fence_elision: validation errors in the server:" >&2
   cat "$work/vuids" >&2
   grep -e 'Validation Error' "$work/err" | grep -v -e '02727' -e '02729' | head -n 5 >&2
   fail=1
fi
if ! grep -q 'sync_fence_only_submits count 17' "$work/out"; then
   echo "test_fence_elision: $prog did not run its fence-only submissions" >&2
   fail=1
fi
[ $fail -eq 0 ] || { echo "--- stderr:" >&2; tail -n 30 "$work/err" >&2; }
exit $fail
