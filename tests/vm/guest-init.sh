#!/bin/sh
# PID 1 of the VM harness's guest (installed as /sbin/venus-guest-init; the kernel
# command line of tests/vm/vm.py says init=/sbin/venus-guest-init). No systemd, no
# udev: mount what a Vulkan program needs, load virtio_gpu, run the payload's run.sh,
# print its exit status and power off.
#
# Lines for tests/vm/vm.py on the serial console:
#   VENUS-VM-START        run.sh starts now (boot time ends here)
#   VENUS-VM-EXIT <n>     run.sh returned status <n>
# While run.sh runs, a byte every 5 s goes to the second serial port (ttyS1):
# vm.py's heartbeat (a guest that stops altogether sends none).
# A guest that powers off without the second line was stopped before run.sh finished.
#
# run.sh runs with cwd a fresh directory in /tmp (tmpfs), stdin /dev/null, stdout and
# stderr on the console, HOME=/root, VENUS_VM=1, and VENUS_VM_OUTPUT=/output when
# vm.py was given --output. The payload disk is mounted read-only at /payload; the
# root filesystem is writable, its changes are discarded (QEMU snapshot=on).

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp VENUS_VM=1

note() {
   echo "venus-guest-init: $*"
}

# The initramfs moved /dev, /proc, /sys and /run here; mount whatever is missing.
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mountpoint -q /run || mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo 1 >/proc/sys/kernel/panic_on_oops

modprobe virtio_gpu || note "modprobe virtio_gpu failed"
i=0
while [ ! -e /dev/dri/renderD128 ] && [ $i -lt 50 ]; do
   sleep 0.1
   i=$((i + 1))
done
[ -e /dev/dri/renderD128 ] || note "no /dev/dri/renderD128"

# vm.py run --output DIR: a third disk, copied into DIR after the run
if [ -b /dev/vdc ]; then
   mkdir -p /output
   if mount -t ext4 /dev/vdc /output; then
      export VENUS_VM_OUTPUT=/output
   else
      note "cannot mount the output disk /dev/vdc"
   fi
fi

status=
if mount -t ext4 -o ro /dev/vdb /payload; then
   work=$(mktemp -d /tmp/run.XXXXXX)
   cd "$work"
   # boot was quiet; from now on the console shows kernel warnings with their
   # backtraces (hung tasks, oopses)
   dmesg -n 7
   echo "VENUS-VM-START"
   heartbeat=
   if [ -c /dev/ttyS1 ]; then
      (while :; do printf .; sleep 5; done) >/dev/ttyS1 2>/dev/null </dev/null &
      heartbeat=$!
   fi
   if [ -x /payload/run.sh ]; then
      /payload/run.sh </dev/null
   else
      /bin/sh /payload/run.sh </dev/null
   fi
   status=$?
   [ -n "$heartbeat" ] && kill "$heartbeat" 2>/dev/null
   cd /
   if [ -n "${VENUS_VM_OUTPUT:-}" ]; then
      sync
      umount /output || note "cannot unmount /output"
   fi
   echo "VENUS-VM-EXIT $status"
else
   note "cannot mount the payload disk /dev/vdb"
fi

# sleep now, so that the one below runs from the page cache while the disks go away
sleep 0
sync
echo o >/proc/sysrq-trigger
# If the power-off did not happen, let the kernel panic (PID 1 exits); vm.py boots
# with panic=-1 and -no-reboot, so QEMU ends either way.
sleep 10
exit 1
