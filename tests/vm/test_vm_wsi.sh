#!/bin/sh
# VM test of the driver's window-system integration (docs/vm.md): a Debian 13
# guest in QEMU 10 whose virtio-gpu carries Venus to virglrenderer 1.1 on the
# host's lavapipe, with an Xvfb inside the guest (tests/vm/guest/wsi.sh).
# vkcube's last frame is compared with a native lavapipe run made first in
# the host chroot; wsi_present reads its frames back from the guest's Xvfb.
#
# usage: test_vm_wsi.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
vm="python3 $here/vm.py"
if [ "$(id -u)" != 0 ]; then
   echo "SKIP: the VM harness needs root (mount and PID namespaces)"
   exit 77
fi
for f in src/driver/libvulkan_venus.so tests/wsi/libwsi_shot.so tests/wsi/wsi_present; do
   if [ ! -f "$build/$f" ]; then
      echo "SKIP: $f is not built (X11 left out of the build?)"
      exit 77
   fi
done

payload=$(mktemp -d "${TMPDIR:-/tmp}/venus-vm-wsi.XXXXXX") || exit 1
out=$payload.out # the guest's vkcube capture when it differs (kept then)
trap 'rm -rf "$payload" "$payload.attempt" "$payload.attempt.rc"; rmdir "$out" 2>/dev/null' \
   EXIT INT TERM

$vm image >/dev/null || exit 1

mkdir -p "$payload/lib" "$payload/bin" "$payload/ref"
cp "$build/src/driver/libvulkan_venus.so" "$payload/lib/" || exit 1
cp "$build/tests/wsi/libwsi_shot.so" "$payload/lib/wsi_shot.so" || exit 1
cp "$build/tests/wsi/wsi_present" "$payload/bin/" || exit 1
cat >"$payload/venus_icd.json" <<JSON
{"file_format_version": "1.0.0",
 "ICD": {"library_path": "/payload/lib/libvulkan_venus.so", "api_version": "1.3.239"}}
JSON
cp "$here/guest/wsi.sh" "$payload/run.sh"

echo "# native reference: vkcube on the host chroot's lavapipe under Xvfb"
$vm host --bind "$payload:/payload" -- sh /payload/run.sh --record-native ||
   { echo "not ok - native vkcube reference run failed"; exit 1; }

# a run that ends in QEMU's own TCG failure is repeated (tcg_retry.sh),
# each attempt with an empty output directory
. "$here/tcg_retry.sh"
run_wsi() {
   rm -rf "$out"
   $vm run --venus on --smp 1 --timeout "${VENUS_VM_TIMEOUT:-600}" --output "$out" "$payload"
}
tcg_retry "$payload.attempt" run_wsi
status=$?
if [ -f "$out/vkcube_guest.ppm" ]; then
   cp "$payload/ref/vkcube_native.ppm" "$out/"
   echo "# the guest's and the native vkcube frames are kept in $out"
fi
[ "$status" = 0 ] && echo "PASS (wsi)" || echo "FAIL (wsi): vm.py status $status"
exit "$status"
