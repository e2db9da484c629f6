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
#        build_image.sh --layer OUT TREE PACKAGES_TXT DEB_CACHE
# The second form builds the build layer (packages-build.txt) into OUT: the
# packages are installed into an overlay whose lower layer is TREE (left as it
# is), and OUT/upper/ keeps what they changed (files, overlayfs whiteouts);
# OUT/packages.lst lists the versions of the resulting tree. vm.py stacks it
# over TREE (`vm.py host --build`).
#
# Run it through tests/vm/vm.py (`vm.py image [--build]`), which calls it inside a
# private mount and PID namespace (every mount below disappears with it), under the
# cache lock, and renames OUT into place only when it succeeded. Needs root,
# debootstrap and network access to a Debian mirror.
#
# Environment:
#   VENUS_VM_MIRROR  Debian mirror (default http://deb.debian.org/debian)
#   http_proxy       used if set; otherwise the host's apt proxy
#                    (Acquire::http::Proxy), if any
set -eu

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

# apt_begin TREE DEB_CACHE: mounts what apt and maintainer scripts need in TREE,
# the package cache included, and keeps daemons from starting
apt_begin() {
   mount --rbind /dev "$1/dev"
   mount -t proc proc "$1/proc"
   mount --rbind /sys "$1/sys"
   mount -t tmpfs tmpfs "$1/tmp"
   mount --bind "$2" "$1/var/cache/apt/archives"
   # no daemon starts from maintainer scripts
   printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
   chmod 755 "$1/usr/sbin/policy-rc.d"
   if [ -n "${http_proxy:-}" ]; then
      echo "Acquire::http::Proxy \"$http_proxy\";" >"$1/etc/apt/apt.conf.d/99venus-vm-proxy"
   fi
}

# apt_install TREE PACKAGES_TXT OUT: installs the packages of the list into TREE
# (with the package lists fetched for it), writes OUT/packages.lst
apt_install() {
   ai_tree=$1
   ai_out=$3
   # shellcheck disable=SC2046
   set -- $(sed -e 's/#.*//' "$2")
   chroot "$ai_tree" apt-get update -q
   DEBIAN_FRONTEND=noninteractive chroot "$ai_tree" apt-get install -y -q \
      --no-install-recommends -o Dpkg::Options::=--force-confold "$@"
   chroot "$ai_tree" dpkg-query -W -f '${Package} ${Version}\n' >"$ai_out/packages.lst"
   if [ -n "$(chroot "$ai_tree" dpkg --audit)" ]; then
      chroot "$ai_tree" dpkg --audit
      echo "build_image: packages left unconfigured" >&2
      exit 1
   fi
}

# apt_end TREE: undoes apt_begin, drops the package lists
apt_end() {
   rm -f "$1/usr/sbin/policy-rc.d" "$1/etc/apt/apt.conf.d/99venus-vm-proxy"
   rm -rf "$1/var/lib/apt/lists/"*
   umount "$1/var/cache/apt/archives"
   umount "$1/tmp"
   umount -R "$1/sys"
   umount "$1/proc"
   umount -R "$1/dev"
}

if [ "${1:-}" = --layer ]; then
   if [ $# -ne 5 ]; then
      echo "usage: $0 --layer OUT TREE PACKAGES_TXT DEB_CACHE" >&2
      exit 2
   fi
   out=$2
   packages=$4
   debs=$5
   root=$out/root
   mkdir -p "$out/upper" "$out/work" "$root" "$debs"
   mount -t overlay venus-vm-build -o "lowerdir=$3,upperdir=$out/upper,workdir=$out/work" \
      "$root"
   step "apt-get install ($(basename "$packages")) over $3"
   apt_begin "$root" "$debs"
   apt_install "$root" "$packages" "$out"
   apt_end "$root"
   umount "$root"
   rm -rf "$out/work"
   rmdir "$root"
   step "done: layer $(du -sh "$out/upper" | cut -f1)"
   exit 0
fi

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
mkdir -p "$debs"

step "debootstrap trixie from $mirror${http_proxy:+ (proxy $http_proxy)}"
debootstrap --variant=minbase --cache-dir="$debs" trixie "$tree" "$mirror"

step "apt-get install (packages.txt)"
apt_begin "$tree" "$debs"
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
apt_install "$tree" "$packages" "$out"

step "guest init, kernel, initrd"
install -m 755 "$guest_init" "$tree/sbin/venus-guest-init"
mkdir -p "$tree/payload"
apt_end "$tree"
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
