#!/bin/sh
# The Debian packages (suite 'install', docs/install.md):
#  1. `dpkg-buildpackage -b -us -uc` in a copy of the source tree (the checkout
#     stays clean) builds venus-vulkan-driver, venus-server, venus-vmm and
#     venus-vmm-dev;
#  2. lintian reports no error and no warning on them;
#  3. they install with dpkg into a clean chroot of the running Debian
#     release (debootstrap minbase plus lavapipe, vulkan-tools, man-db and
#     systemd, cached in $VENUS_DEB12_CACHE, default ~/.cache/venus-deb12, on
#     Debian 12; ~/.cache/venus-debN on Debian N; or the ready tree
#     $VENUS_DEB_TREE, an overlayfs lowerdir list, as tests/vm/run_suite_debian13.sh
#     sets; each run works on an overlay of it, which stays clean): the socket unit is enabled by
#     the packages' maintainer scripts; the server is started as systemd
#     would start it from the installed units (their ListenStream and
#     ExecStart, through systemd-socket-activate: systemd is not PID 1 in a
#     chroot, so nothing is started by systemd itself), and `vulkaninfo`,
#     with no environment set, reaches it through the installed driver at the
#     default socket /tmp/.virgl_test and names the Venus device; then
#     `man venus-server` renders, and the programs answer --version.
#
# usage: test_deb.sh SOURCE_ROOT [--chroot-only]
# Skips (77) when not root or a tool is missing (dpkg-buildpackage, dh,
# lintian, debootstrap unless VENUS_DEB_TREE is set, unshare) or a build dependency
# (dpkg-checkbuilddeps). The packages are built with
# DEB_BUILD_OPTIONS=nocheck (debian/rules then builds no tests: the other
# suites run them). Environment: VENUS_DEB12_MIRROR (default
# http://deb.debian.org/debian), http_proxy (else apt's configured proxy),
# VENUS_DEB_KEEP=1 keeps the work directory.
set -u

if [ "${1:-}" = --inner ]; then
   # in a private mount namespace: TREE (lower) WORK DEBS
   lower=$2
   work=$3
   debs=$4
   root=$work/root
   # the overlay's upper layer on a tmpfs: the work folder may itself be on an
   # overlay (a chroot of the VM harness), which cannot be an upper layer
   mkdir -p "$root" "$work/rw"
   mount -t tmpfs -o mode=755 venus-deb "$work/rw"
   mkdir "$work/rw/upper" "$work/rw/ovl"
   mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/rw/upper,workdir=$work/rw/ovl" "$root"
   mount -t proc proc "$root/proc"
   mount --rbind /dev "$root/dev"
   mount -t tmpfs tmpfs "$root/tmp"
   mkdir -p "$root/debs"
   mount --bind "$debs" "$root/debs"
   # nothing of the host's environment reaches the chroot's programs
   in_root() {
      env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
         chroot "$root" "$@"
   }
   status=0
   check() { # check NAME STATUS
      if [ "$2" = 0 ]; then echo "ok - $1"; else echo "not ok - $1"; status=1; fi
   }

   in_root sh -c 'DEBIAN_FRONTEND=noninteractive dpkg -i /debs/*.deb' >"$work/dpkg.log" 2>&1
   st=$?
   [ $st = 0 ] || cat "$work/dpkg.log"
   check "dpkg -i $(cd "$debs" && echo *.deb) into the Debian $release chroot" $st
   [ $st = 0 ] || exit 1
   in_root dpkg-query -W -f '  ${Package} ${Version} ${Status}\n' \
      venus-vulkan-driver venus-server venus-vmm venus-vmm-dev
   test -L "$root/etc/systemd/system/sockets.target.wants/venus-server.socket"
   check "the maintainer scripts enabled venus-server.socket" $?

   # the server as systemd starts it: the socket unit's path, the service's
   # command line, the listening socket passed as fd 3 (LISTEN_FDS)
   listen=$(sed -n 's/^ListenStream=//p' "$root/lib/systemd/system/venus-server.socket")
   exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/venus-server.service")
   echo "  ListenStream=$listen ExecStart=$exec_start"
   echo "  systemd is not PID 1 in this chroot: the server is started by" \
      "systemd-socket-activate from the installed units (socket activation, no systemd)"
   # (not through in_root: $! must be the process that execs into the server)
   # shellcheck disable=SC2086
   env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      chroot "$root" systemd-socket-activate -l "$listen" -E VENUS_LOG_LEVEL=info \
      $exec_start >"$work/server.log" 2>&1 &
   activator=$!
   i=0
   while [ ! -S "$root$listen" ] && [ $i -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
   done
   in_root timeout 120 vulkaninfo --summary >"$work/vulkaninfo.out" 2>&1
   st=$?
   grep -E "deviceName|driverName" "$work/vulkaninfo.out" | sed 's/^ */  /'
   # exactly one Venus device, on lavapipe: the server's own loader (which
   # sees the installed driver too) must not have loaded the Venus driver
   [ $st = 0 ] && [ "$(grep -c "deviceName *= Virtio-GPU Venus (llvmpipe" "$work/vulkaninfo.out")" = 1 ] &&
      ! grep -q "Venus (Virtio-GPU Venus" "$work/vulkaninfo.out"
   st=$?
   [ $st = 0 ] || tail -n 30 "$work/vulkaninfo.out"
   check "vulkaninfo (no environment) names the Venus device through the installed driver and the socket-activated server" $st
   kill "$activator" 2>/dev/null
   wait "$activator" 2>/dev/null
   grep -q "listening on the socket passed by systemd" "$work/server.log" &&
      ! grep -q "refusing client" "$work/server.log"
   st=$?
   [ $st = 0 ] || cat "$work/server.log"
   check "venus-server served the socket passed by systemd-socket-activate" $st

   out=$(in_root sh -c 'MANWIDTH=80 man venus-server 2>&1 | col -b')
   echo "$out" | grep -q -- "--socket-path" && echo "$out" | grep -q "SOCKET ACTIVATION"
   check "man venus-server renders" $?
   in_root sh -c 'MANWIDTH=80 man venus-run 2>&1 | col -b' | grep -q -- "--keep-log"
   check "man venus-run renders" $?
   v1=$(in_root venus-server --version)
   v2=$(in_root venus-run --version)
   v3=$(in_root sh -c '/usr/lib/*/venus/venus-vmm-worker --version')
   echo "  $v1; $v2; $v3"
   [ -n "$v1" ] && [ -n "$v2" ] && [ -n "$v3" ]
   check "--version" $?
   in_root timeout 120 venus-run vulkaninfo --summary 2>&1 |
      grep -q "deviceName *= Virtio-GPU Venus (llvmpipe"
   check "venus-run vulkaninfo (private server, installed paths)" $?
   exit $status
fi

src=$(cd "${1:?usage: test_deb.sh SOURCE_ROOT}" && pwd)
start=$(date +%s)
step() {
   echo "[$(($(date +%s) - start)) s] $*"
}

if [ "$(id -u)" != 0 ]; then
   echo "SKIP: needs root (debootstrap, chroot, mounts)"
   exit 77
fi
# the release of the chroot: the running one (Debian 12 or 13)
release=$(. /etc/os-release && echo "${VERSION_ID:-12}")
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
tools="dpkg-buildpackage dh lintian unshare chroot"
[ -n "${VENUS_DEB_TREE:-}" ] || tools="$tools debootstrap"
for tool in $tools; do
   if ! command -v "$tool" >/dev/null; then
      echo "SKIP: $tool is missing (setup.sh installs it)"
      exit 77
   fi
done

# The Debian chroot in $tree, built once under a lock
if [ "$release" = 12 ]; then
   cache=${VENUS_DEB12_CACHE:-$HOME/.cache/venus-deb12}
else
   cache=$HOME/.cache/venus-deb$release
fi
tree=$cache/tree
build_chroot() {
   if [ -n "${VENUS_DEB_TREE:-}" ]; then
      return 0
   fi
   mkdir -p "$cache"
   packages="libvulkan1 mesa-vulkan-drivers vulkan-tools man-db systemd bsdextrautils"
   export DEBS="$cache/debs"
   (
      flock 9
      if [ -f "$tree/.venus-packages" ] && [ "$(cat "$tree/.venus-packages")" = "$packages" ]; then
         exit 0
      fi
      step "building the Debian $release chroot in $tree (once)"
      mirror=${VENUS_DEB12_MIRROR:-http://deb.debian.org/debian}
      if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null; then
         eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
         [ -z "${http_proxy:-}" ] || export http_proxy
      fi
      rm -rf "$tree" "$tree.new"
      mkdir -p "$cache/debs"
      debootstrap --variant=minbase --cache-dir="$cache/debs" "$codename" "$tree.new" "$mirror" \
         >"$cache/debootstrap.log" 2>&1 || { tail -n 30 "$cache/debootstrap.log"; exit 1; }
      # shellcheck disable=SC2086
      unshare -m --propagation private sh -c '
         set -e
         t=$1; shift
         mount -t proc proc "$t/proc"
         mount --bind "$DEBS" "$t/var/cache/apt/archives"
         printf "#!/bin/sh\nexit 101\n" >"$t/usr/sbin/policy-rc.d"
         chmod 755 "$t/usr/sbin/policy-rc.d"
         [ -z "${http_proxy:-}" ] ||
            echo "Acquire::http::Proxy \"$http_proxy\";" >"$t/etc/apt/apt.conf.d/99proxy"
         chroot "$t" apt-get update -q
         DEBIAN_FRONTEND=noninteractive chroot "$t" apt-get install -y -q \
            --no-install-recommends "$@"
         rm -f "$t/usr/sbin/policy-rc.d" "$t/etc/apt/apt.conf.d/99proxy"
      ' sh "$tree.new" $packages >"$cache/apt.log" 2>&1 ||
         { tail -n 30 "$cache/apt.log"; exit 1; }
      echo "$packages" >"$tree.new/.venus-packages"
      mv "$tree.new" "$tree"
   ) 9>"$cache/lock" || { echo "FAIL: building the chroot"; exit 1; }
}

if [ "${2:-}" = --chroot-only ]; then
   build_chroot
   exit $?
fi

if ! missing=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
   echo "SKIP: build dependencies missing (setup.sh installs them): $missing"
   exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/venus-deb.XXXXXX")
if [ -z "${VENUS_DEB_KEEP:-}" ]; then
   trap 'rm -rf "$work"' EXIT
else
   echo "keeping $work (VENUS_DEB_KEEP)"
fi

# 1. build the packages from a copy of the tracked (and new, not ignored) files
step "copy of the source tree"
mkdir "$work/venus"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
   git -C "$src" ls-files -z --cached --others --exclude-standard |
      (cd "$src" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
      (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$work/venus"
else
   (cd "$src" && tar --exclude='./build*' --exclude=./obj-* -cf - .) | tar -xf - -C "$work/venus"
fi
step "dpkg-buildpackage -b -us -uc"
if ! (cd "$work/venus" &&
      DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -b -us -uc) \
      >"$work/build.log" 2>&1; then
   tail -n 60 "$work/build.log"
   echo "FAIL: dpkg-buildpackage"
   exit 1
fi
ls -l "$work"/*.deb | sed 's/^/  /'
echo "ok - dpkg-buildpackage -b -us -uc"

# 2. lintian at its default level: no error, no warning
step "lintian"
changes=$(ls "$work"/*.changes)
lintian --fail-on error,warning "$changes" \
   >"$work/lintian.log" 2>&1
st=$?
sed 's/^/  /' "$work/lintian.log"
if [ $st != 0 ]; then
   echo "FAIL: lintian"
   exit 1
fi
echo "ok - lintian: no error or warning"
mkdir "$work/debs"
for deb in "$work"/*.deb; do
   case "$deb" in
   *-dbgsym_*) ;;
   *) cp "$deb" "$work/debs/" ;;
   esac
done

build_chroot || exit 1
tree=${VENUS_DEB_TREE:-$tree}
step "installing into the Debian $release chroot (an overlay of $tree)"
release=$release unshare -m --propagation private sh "$0" --inner "$tree" "$work" "$work/debs"
st=$?
step "done"
exit $st
