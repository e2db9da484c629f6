#!/bin/sh
# VM baseline: Mesa's own Venus driver in the guest, on QEMU's virtio-gpu with
# virglrenderer's render server on the chroot's lavapipe.
#   1. `vulkaninfo --summary` in the guest finds a Venus device
#   2. if a build tree is given: build/tests/integration/programs/vkt_compute runs in
#      the guest through Mesa's Venus and natively in the chroot on lavapipe
#      (`vm.py host`); both pass and print the same stdout
#
# usage: test_vm_mesa.sh [BUILD_ROOT]   (default: $MESON_BUILD_ROOT, if set)
# Needs root; the first run builds the cache (tests/vm/vm.py image, minutes).
# Prints PASS/FAIL lines; exits 0 when everything passed.
set -u
if [ "$(id -u)" != 0 ]; then
   echo "SKIP: the VM harness needs root (mount and PID namespaces)"
   exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
vm=$here/vm.py
build=${1:-${MESON_BUILD_ROOT:-}}
failed=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failed=1; }

progs=
if [ -n "$build" ]; then
   progs=$build/tests/integration/programs
   for f in vkt_compute compute.comp.spv; do
      if [ ! -f "$progs/$f" ]; then
         echo "FAIL: $progs/$f does not exist (build the project first)"
         exit 1
      fi
   done
fi

"$vm" image || { echo "FAIL: vm.py image"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/test_vm_mesa.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
payload=$work/payload
mkdir "$payload"
if [ -n "$progs" ]; then
   # vm.py copies the payload with symbolic links followed
   ln -s "$progs/vkt_compute" "$progs/compute.comp.spv" "$payload/"
fi
cat >"$payload/run.sh" <<'GUEST'
#!/bin/sh
icd=/usr/share/vulkan/icd.d/virtio_icd.json
export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
# a stalled virtio-gpu queue (below) shows within 30 s, not the default 120
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
# With fence feedback (the renderer writes fence states into a host-visible blob
# the driver polls), Mesa 25.0.7 hung in "stuck in fence wait" in 3 of 15 runs on
# QEMU TCG with 2 vCPUs and two or three VMs at once (docs/vm.md); without it, 0 of 18.
export VN_PERF=no_fence_feedback
vulkaninfo --summary >vulkaninfo.txt 2>&1
echo "VULKANINFO-STATUS $?"
sed 's/^/VULKANINFO /' vulkaninfo.txt
if [ -x /payload/vkt_compute ]; then
   /payload/vkt_compute >compute.out 2>compute.err
   echo "COMPUTE-STATUS $?"
   sed 's/^/COMPUTE-OUT /' compute.out
   sed 's/^/COMPUTE-ERR /' compute.err
fi
exit 0
GUEST

# a run that ends in QEMU's own TCG failure is repeated (tcg_retry.sh)
. "$here/tcg_retry.sh"
run_mesa() {
   start=$(date +%s)
   "$vm" run --timeout 420 "$payload"
   st=$?
   echo "test_vm_mesa: vm.py run took $(($(date +%s) - start)) s"
   return "$st"
}
tcg_retry "$work/vm.out" run_mesa
status=$?
if [ $status -eq 0 ]; then
   pass "guest run.sh ran to its end"
else
   fail "vm.py run exited with status $status"
fi

if grep -q '^VULKANINFO-STATUS 0' "$work/vm.out"; then
   pass "vulkaninfo --summary in the guest"
else
   fail "vulkaninfo --summary in the guest"
fi
name=$(sed -n 's/^VULKANINFO[[:space:]]*deviceName[[:space:]]*= //p' "$work/vm.out" | head -n 1)
case $name in
*Venus*) pass "guest device through Mesa's Venus: $name" ;;
*) fail "no Venus device in the guest (deviceName: '${name:-none}')" ;;
esac

if [ -z "$progs" ]; then
   echo "SKIP: vkt_compute comparison (no build tree given)"
   exit $failed
fi

if grep -q '^COMPUTE-STATUS 0' "$work/vm.out"; then
   pass "vkt_compute in the guest through Mesa's Venus"
else
   fail "vkt_compute in the guest ($(grep '^COMPUTE-STATUS' "$work/vm.out" || echo 'did not run'))"
fi
sed -n 's/^COMPUTE-OUT //p' "$work/vm.out" >"$work/guest.txt"

# The native run: the same binary in the chroot on lavapipe (trixie's file name
# differs from Debian 12's, so it is looked up there).
"$vm" host --bind "$progs:/vkt" -- sh -c \
   'icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1) &&
    VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd exec /vkt/vkt_compute' \
   >"$work/native.txt" 2>"$work/native.err"
status=$?
cat "$work/native.err"
if [ $status -eq 0 ]; then
   pass "vkt_compute natively in the chroot on lavapipe"
else
   fail "vkt_compute natively in the chroot (status $status)"
fi
if [ -s "$work/native.txt" ] && cmp -s "$work/native.txt" "$work/guest.txt"; then
   pass "vkt_compute output: guest (Venus) = native (lavapipe), $(wc -l <"$work/native.txt") line(s)"
else
   fail "vkt_compute output differs between the guest and the native run"
   diff -u "$work/native.txt" "$work/guest.txt"
fi
exit $failed
