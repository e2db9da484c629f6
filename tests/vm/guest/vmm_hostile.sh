#!/bin/sh
# run.sh of the hostile VM test of our VMM library (tests/vm/test_vm_driver.sh
# vmm_hostile): QEMU runs our libvirglrenderer.so.1. While a well-behaved
# process runs on each guest driver (ours, Mesa's Venus), bin/vmm_garbage
# sends garbage on its own Venus context, three times (a garbage stream,
# garbage in a ring, a ring tail past its buffer): only that context may be lost
# (its fence still signals), the others finish with correct results, and new
# processes work afterwards. The host checks QEMU's log for the one fatal
# line. Last, a process is left running and the host SIGKILLs QEMU on
# VENUS-VM-KILL-QEMU; the host then checks that no worker is left.
# Prints TAP-style lines and "VMM-HOSTILE-FAILED <n>" before the kill.
set -u
# a virtio-gpu queue that QEMU's TCG stalls shows as hung tasks: panic, so
# that test_vm_driver.sh can tell it and repeat the run (as driver.sh)
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
echo 1 >/proc/sys/kernel/hung_task_panic 2>/dev/null
export VKT_TIMEOUT=90 # see driver.sh
P=/payload
ours=$P/venus_icd.json
mesa=$(ls /usr/share/vulkan/icd.d/virtio_icd*.json 2>/dev/null | head -n 1)
failed=0
check() {
   if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; failed=$((failed + 1)); fi
}

sh $P/programs.sh ours-beside "$ours" $P/bin $P/ref compute render >/tmp/a.out 2>&1 &
a=$!
sh $P/programs.sh mesa-beside "$mesa" $P/bin $P/ref compute hostmem >/tmp/b.out 2>&1 &
b=$!
sleep 3
timeout 120 $P/bin/vmm_garbage stream
check "hostile process: garbage stream on its own context accepted, context lost, its fence signalled" $?
timeout 120 $P/bin/vmm_garbage ring
check "hostile process: garbage in its ring's buffer, the ring shows FATAL, its fence signalled" $?
timeout 120 $P/bin/vmm_garbage ring-tail
check "hostile process: a ring tail past the buffer, the ring shows FATAL, its fence signalled" $?
wait $a
ra=$?
wait $b
rb=$?
cat /tmp/a.out /tmp/b.out
check "processes beside the hostile one (our driver, Mesa's Venus) unaffected" $((ra + rb))

sh $P/programs.sh ours-after "$ours" $P/bin $P/ref transfer sync
check "our driver after the hostile process" $?
sh $P/programs.sh mesa-after "$mesa" $P/bin $P/ref transfer
check "Mesa's Venus after the hostile process" $?

echo "VMM-HOSTILE-FAILED $failed"
# leave work in flight when QEMU is killed
sh $P/programs.sh ours-killed "$ours" $P/bin $P/ref compute render >/dev/null 2>&1 &
sleep 5
echo "VENUS-VM-KILL-QEMU"
sleep 600
exit 1
