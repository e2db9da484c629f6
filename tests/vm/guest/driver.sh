#!/bin/sh
# run.sh of the VM test of our driver (tests/vm/test_vm_driver.sh), in a guest
# whose virtio-gpu carries Venus (QEMU venus=on, virglrenderer, host lavapipe).
# The payload holds our ICD (lib/, venus_icd.json), the test programs (bin/),
# the native reference runs made on the host's lavapipe (ref/) and these
# scripts. Prints TAP-style lines; exits with the number of failures.
set -u
# a virtio-gpu queue that QEMU stalls shows as hung tasks: panic, so that
# the run ends at once (tests/vm/test_vm_driver.sh repeats it)
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo 1 >/proc/sys/kernel/hung_task_panic 2>/dev/null
# a program normally takes a second or two; one caught in such a stall is
# ended early, so that its exit (blocked on the host) trips the panic soon
export VKT_TIMEOUT=90
P=/payload
ours=$P/venus_icd.json
mesa=$(ls /usr/share/vulkan/icd.d/virtio_icd*.json 2>/dev/null | head -n 1)
failed=0
check() { # check NAME STATUS
   if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; failed=$((failed + 1)); fi
}

# 1. vulkaninfo names the Venus device, through our driver on virtio-gpu
start=$(date +%s)
VK_DRIVER_FILES=$ours VK_ICD_FILENAMES=$ours VENUS_DEBUG=init timeout 300 \
   vulkaninfo --summary >/tmp/vulkaninfo.out 2>/tmp/vulkaninfo.err
rc=$?
grep -E "deviceName|driverName|apiVersion" /tmp/vulkaninfo.out | head -n 3
grep "transport:" /tmp/vulkaninfo.err | head -n 1
[ "$rc" = 0 ] && grep -q "deviceName *= Virtio-GPU Venus (llvmpipe" /tmp/vulkaninfo.out &&
   grep -q "transport: virtio-gpu" /tmp/vulkaninfo.err
st=$?
[ "$st" = 0 ] || tail -n 20 /tmp/vulkaninfo.err
check "ours vulkaninfo names the Venus device over virtio-gpu ($(($(date +%s) - start)) s)" $st

# 2. the nine programs and gl_zink (OpenGL ES on Zink), byte-identical to
#    the native runs. Memory fd imports need a renderer that keeps the fd
#    of a device-memory blob: virglrenderer 1.1 does so only for
#    CROSS_DEVICE blobs, which QEMU never offers; there the driver hides
#    VK_KHR_external_memory_fd and extmem must say so instead of running.
#    Our VMM library keeps every blob's fd and says so in its capset
#    (version 1): there extmem must run.
programs="compute render transfer sync events queries hostmem extmem gpl gl_zink"
VK_DRIVER_FILES=$ours VK_ICD_FILENAMES=$ours timeout 300 vulkaninfo >/tmp/vulkaninfo.full 2>&1
if [ -f $P/our_vmm_library ]; then
   grep -q "transport: virtio-gpu.*(our renderer: memory imports)" /tmp/vulkaninfo.err &&
      grep -q VK_KHR_external_memory_fd /tmp/vulkaninfo.full
   check "ours: memory fds offered on our VMM library (capset version 1)" $?
elif grep -q "transport: virtio-gpu.*no CROSS_DEVICE" /tmp/vulkaninfo.err; then
   programs="compute render transfer sync events queries hostmem gpl gl_zink"
   ! grep -q VK_KHR_external_memory_fd /tmp/vulkaninfo.full &&
      VK_DRIVER_FILES=$ours VKT_SHADER_DIR=$P/bin $P/bin/vkt_extmem 2>&1 |
      grep -q "lacks VK_KHR_external_memory_fd"
   check "ours extmem: VK_KHR_external_memory_fd hidden on a renderer without memory imports" $?
fi
start=$(date +%s)
sh $P/programs.sh ours "$ours" $P/bin $P/ref $programs
failed=$((failed + $?))
echo "# ours: programs took $(($(date +%s) - start)) s"

# 3. two processes on the device at once; $P/concurrent_rounds (from
#    VENUS_VM_CONCURRENT_ROUNDS, default 1) rounds of them, to stress it
rounds=$(cat $P/concurrent_rounds 2>/dev/null || echo 1)
round=0
while [ "$round" -lt "$rounds" ]; do
   round=$((round + 1))
   start=$(date +%s)
   sh $P/programs.sh ours-a "$ours" $P/bin $P/ref compute render hostmem >/tmp/a.out 2>&1 &
   a=$!
   sh $P/programs.sh ours-b "$ours" $P/bin $P/ref transfer sync queries >/tmp/b.out 2>&1 &
   b=$!
   wait $a
   ra=$?
   wait $b
   rb=$?
   # with several rounds only a failing one prints its programs' lines
   if [ "$rounds" = 1 ] || [ $((ra + rb)) != 0 ]; then
      cat /tmp/a.out /tmp/b.out
   fi
   label="ours two concurrent processes both correct"
   [ "$rounds" = 1 ] || label="$label, round $round of $rounds"
   check "$label ($(($(date +%s) - start)) s)" $((ra + rb))
done

# 4. Mesa's Venus driver in the same guest (the payload has mesa_required),
#    on our VMM library or on virglrenderer, whichever QEMU loaded: vulkaninfo
#    and the programs, byte-identical to the native runs. Mesa offers memory
#    fds only where the host driver has VK_EXT_image_drm_format_modifier and
#    VK_EXT_queue_family_foreign, which lavapipe lacks, whatever the renderer:
#    there extmem must say so instead of running (docs/vm.md).
if [ -n "$mesa" ] && [ -f $P/mesa_required ]; then
   start=$(date +%s)
   # on virglrenderer, Mesa's fence feedback now and then misses a fence
   # under TCG (docs/vm.md); our library does not need this
   # Mesa 25.0.7's timeline-semaphore feedback now and then never sees a
   # value under TCG, on our library and on virglrenderer alike (vkt_sync
   # stuck in vkWaitSemaphores for 90 s; not analysed: issue 12 note); the
   # semaphores then go through the renderer
   if [ -f $P/mesa_no_fence_feedback ]; then
      export VN_PERF=no_fence_feedback,no_semaphore_feedback
   else
      export VN_PERF=no_semaphore_feedback
   fi
   VK_DRIVER_FILES=$mesa VK_ICD_FILENAMES=$mesa timeout 300 vulkaninfo --summary \
      >/tmp/mesa-vulkaninfo.out 2>&1
   grep -q "deviceName *= Virtio-GPU Venus (llvmpipe" /tmp/mesa-vulkaninfo.out
   check "mesa vulkaninfo names the Venus device" $?
   mesa_programs="compute render transfer sync events queries hostmem extmem gpl gl_zink"
   VK_DRIVER_FILES=$mesa VK_ICD_FILENAMES=$mesa timeout 300 vulkaninfo >/tmp/mesa-vulkaninfo.full 2>&1
   if ! grep -q VK_KHR_external_memory_fd /tmp/mesa-vulkaninfo.full; then
      mesa_programs="compute render transfer sync events queries hostmem gpl gl_zink"
      VK_DRIVER_FILES=$mesa VKT_SHADER_DIR=$P/bin $P/bin/vkt_extmem 2>&1 |
         grep -q "lacks VK_KHR_external_memory_fd"
      check "mesa extmem: no memory fds on a host driver without DRM format modifiers" $?
   fi
   # on virglrenderer a program stuck in a TCG stall is marked for a repeat
   # of the run (programs.sh, tcg_retry.sh); on our VMM library it fails
   [ -f $P/tcg_stall_retry ] && export VKT_STALL_MARK=1
   sh $P/programs.sh mesa "$mesa" $P/bin $P/ref $mesa_programs
   failed=$((failed + $?))
   unset VN_PERF VKT_STALL_MARK
   echo "# mesa: programs took $(($(date +%s) - start)) s"
fi
echo "# $failed failed"
exit $failed
