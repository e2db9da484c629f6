#!/bin/sh
# Builds the VM harness's cache entry into OUT (an empty directory):
#   OUT/tree/        Debian 13 (trixie) tree: debootstrap minbase + packages.txt;
#                    the host chroot (QEMU, Xvfb, lavapipe) and the guest's root
#   OUT/guest.img    ext4 image of tree/ (the guest's /dev/vda)
#   OUT/vmlinuz, OUT/initrd.img   the tree's kernel and initrd (-kernel/-initrd)
#   OUT/packages.lst versions of every package in the tree
#   OUT/mnt/         empty: each vm.py run mounts its private tmpfs there
#
# usage: build_image.sh OUT PACKAGES_TXT GUEST_INIT DEB_CACHE
# Run it through tests/vm/vm.py (`vm.py image`), which calls it inside a private
# mount and PID namespace (every mount below disappears with it), under the cache
# lock, and renames OUT into place only when it succeeded. Needs root, debootstrap
# and network access to a Debian mirror.
#
# Environment:
#   VENUS_VM_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   http_proxy       used if set; otherwise the host's apt proxy
#                    (Acquire::http::Proxy), if any
set -eu

if [ $# -ne 4 ]; then
   echo "usage: $0 OUT PACKAGES_TXT GUEST_INIT DEB_CACHE" >&2
   exit 2
fi
out=$1
packages=$2
guest_init=$3
debs=$4
tree=$out/tree
mirror=${VENUS_VM_MIRROR:-http://deb.debian.org/debian}
start=$(date +%s)

step() {
   echo "build_image: [$(($(date +%s) - start)) s] $*"
}

if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null; then
   eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
   if [ -n "${http_proxy:-}" ]; then
      export http_proxy
   fi
fi

pkgs=$(sed -e 's/#.*//' "$packages" | tr -s ' \t\n' '   ')
mkdir -p "$debs"

step "debootstrap trixie from $mirror${http_proxy:+ (proxy $http_proxy)}"
debootstrap --variant=minbase --cache-dir="$debs" trixie "$tree" "$mirror"

step "apt-get install (packages.txt)"
mount --rbind /dev "$tree/dev"
mount -t proc proc "$tree/proc"
mount --rbind /sys "$tree/sys"
mount -t tmpfs tmpfs "$tree/tmp"
mount --bind "$debs" "$tree/var/cache/apt/archives"
# no daemon starts from maintainer scripts
printf '#!/bin/sh\nexit 101\n' >"$tree/usr/sbin/policy-rc.d"
chmod 755 "$tree/usr/sbin/policy-rc.d"
if [ -n "${http_proxy:-}" ]; then
   echo "Acquire::http::Proxy \"$http_proxy\";" >"$tree/etc/apt/apt.conf.d/99venus-vm-proxy"
fi
# A small initrd: only what mounts /dev/vda (virtio_blk, ext4); set up before the
# kernel's installation generates it.
mkdir -p "$tree/etc/initramfs-tools/conf.d" "$tree/etc/initramfs-tools/hooks"
printf 'MODULES=list\nCOMPRESS=zstd\n' >"$tree/etc/initramfs-tools/conf.d/venus-vm.conf"
cat >"$tree/etc/initramfs-tools/hooks/venus-vm" <<'HOOK'
#!/bin/sh
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk ext4
HOOK
chmod 755 "$tree/etc/initramfs-tools/hooks/venus-vm"

chroot "$tree" apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive chroot "$tree" apt-get install -y -q \
   --no-install-recommends -o Dpkg::Options::=--force-confold $pkgs
chroot "$tree" dpkg-query -W -f '${Package} ${Version}\n' >"$out/packages.lst"
if [ -n "$(chroot "$tree" dpkg --audit)" ]; then
   chroot "$tree" dpkg --audit
   echo "build_image: packages left unconfigured" >&2
   exit 1
fi

step "guest init, kernel, initrd"
install -m 755 "$guest_init" "$tree/sbin/venus-guest-init"
mkdir -p "$tree/payload"
rm -f "$tree/usr/sbin/policy-rc.d" "$tree/etc/apt/apt.conf.d/99venus-vm-proxy"
rm -rf "$tree/var/lib/apt/lists/"*
umount "$tree/var/cache/apt/archives"
umount "$tree/tmp"
umount -R "$tree/sys"
umount "$tree/proc"
umount -R "$tree/dev"
set -- "$tree"/boot/vmlinuz-*
if [ $# -ne 1 ]; then
   echo "build_image: expected one kernel in $tree/boot, found: $*" >&2
   exit 1
fi
kver=${1##*/vmlinuz-}
cp "$tree/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$out/initrd.img"
mkdir "$out/mnt"

step "guest.img (mke2fs -d)"
size=$(du -sm "$tree" | cut -f1)
size=$((size + size / 5 + 256))
mke2fs -q -t ext4 -O ^has_journal -L venus-guest -E root_owner=0:0 \
   -d "$tree" "$out/guest.img" "${size}M"
chmod 444 "$out/guest.img"

step "done: kernel $kver, tree $(du -sh "$tree" | cut -f1), guest.img ${size} MiB"
