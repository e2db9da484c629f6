#!/bin/sh
# run.sh of the VM test without Venus (QEMU venus=off: a virtio-gpu with 3D
# but no Venus capset). Our driver must fail vkCreateInstance at once with
# VK_ERROR_INCOMPATIBLE_DRIVER and one log line naming the reason, and the
# loader must move on to the next driver (the guest's own lavapipe).
set -u
# a virtio-gpu queue that QEMU stalls shows as hung tasks: panic, so that
# the run ends at once (tests/vm/test_vm_driver.sh repeats it)
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo 1 >/proc/sys/kernel/hung_task_panic 2>/dev/null
P=/payload
ours=$P/venus_icd.json
lvp=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1)
failed=0
check() {
   if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; failed=$((failed + 1)); fi
}
ls -l /dev/dri/

start=$(date +%s)
VK_DRIVER_FILES=$ours VK_ICD_FILENAMES=$ours timeout 60 vulkaninfo --summary \
   >/tmp/alone.out 2>/tmp/alone.err
rc=$?
secs=$(($(date +%s) - start))
grep '^\[venus' /tmp/alone.err
check "ours alone: no hang (${secs} s)" $([ "$rc" != 124 ] && echo 0 || echo 1)
grep -q ERROR_INCOMPATIBLE_DRIVER /tmp/alone.out /tmp/alone.err
check "ours alone: vkCreateInstance fails with VK_ERROR_INCOMPATIBLE_DRIVER" $?
[ "$(grep -c '^\[venus' /tmp/alone.err)" = 1 ] &&
   grep -q '^\[venus.*no Venus device: virtio-gpu /dev/dri/renderD128 offers no Venus capset' /tmp/alone.err
check "ours alone: exactly one log line, naming the missing Venus capset" $?

VK_DRIVER_FILES=$ours:$lvp VK_ICD_FILENAMES=$ours:$lvp timeout 120 vulkaninfo --summary \
   >/tmp/both.out 2>/tmp/both.err
rc=$?
grep -m1 deviceName /tmp/both.out
[ "$rc" = 0 ] && grep -q "deviceName *= llvmpipe" /tmp/both.out
check "ours then lavapipe: the loader moves on to lavapipe" $?
echo "# $failed failed"
exit $failed
