#!/bin/sh
# Without a Venus device (no Venus-capable virtio-gpu render node, no vtest
# server at the default socket, nothing asked for), the driver's
# vkCreateInstance must fail at once with VK_ERROR_INCOMPATIBLE_DRIVER and
# exactly one log line, and the loader must move on to the next driver.
#
# usage: test_no_device.sh VENUS_ICD_JSON FALLBACK_ICD_JSON
# Skips (77) when a vtest server listens at the default path (the driver
# would use it). Not run in a private /tmp: the build tree may live there.
set -u
icd=$1
fallback=$2

if [ -e /tmp/.virgl_test ]; then
   echo "SKIP: a vtest server socket exists at /tmp/.virgl_test"
   exit 77
fi

unset VTEST_SOCKET_NAME VENUS_DEBUG
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT
failed=0

# our driver alone: the loader finds no driver
start=$(date +%s)
VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd timeout 20 vulkaninfo --summary \
   >"$out/alone.out" 2>"$out/alone.err"
rc=$?
elapsed=$(($(date +%s) - start))
if [ "$rc" = 124 ]; then
   echo "FAIL: vulkaninfo hung"
   failed=1
fi
if ! grep -q "ERROR_INCOMPATIBLE_DRIVER" "$out/alone.out" "$out/alone.err"; then
   echo "FAIL: vkCreateInstance did not fail with VK_ERROR_INCOMPATIBLE_DRIVER"
   failed=1
fi
lines=$(grep -c '^\[venus' "$out/alone.err")
if [ "$lines" != 1 ] || ! grep -q '^\[venus.*no Venus device' "$out/alone.err"; then
   echo "FAIL: expected exactly one driver log line naming the missing device, got $lines:"
   failed=1
fi
sed 's/^/    /' "$out/alone.err" | grep venus
echo "alone: rc $rc in ${elapsed}s"

# our driver first, then another: the loader moves on
VK_DRIVER_FILES=$icd:$fallback VK_ICD_FILENAMES=$icd:$fallback timeout 60 vulkaninfo --summary \
   >"$out/both.out" 2>"$out/both.err"
rc=$?
if [ "$rc" != 0 ] || ! grep -q "deviceName" "$out/both.out" || grep -q "Venus" "$out/both.out"; then
   echo "FAIL: with a second driver, vulkaninfo should list its device (rc $rc):"
   tail -n 5 "$out/both.out" "$out/both.err" | sed 's/^/    /'
   failed=1
else
   echo "with a fallback driver: $(grep -m1 deviceName "$out/both.out" | sed 's/^ *//')"
fi

[ "$failed" = 0 ] && echo "PASS"
exit $failed
