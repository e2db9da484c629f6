#!/bin/sh
# The whole test suite in a Debian 13 (trixie) chroot: the VM harness's tree with
# its build layer (tests/vm/packages-build.txt; `vm.py host --build`), on Debian
# 13's lavapipe, Mesa's Venus driver, virglrenderer's virgl_test_server and
# vk.xml. A copy of the checkout (tracked files and new, not ignored ones, as
# they are in the work tree; --head: the last commit) is bound into the chroot
# at /venus-debian13/src (a path no installed file could contain by chance:
# the install test looks for it), built there in build-d13 and tested with
# `meson test --no-suite vm` (the vm suite already runs on this tree). Needs
# root, like vm.py; the first run builds the cache (docs/vm.md) and the layer.
#
# usage: run_suite_debian13.sh [--work DIR] [--head] [--clean] [-- MESON_TEST_ARGS...]
#
#   --work DIR  where the copy and its build live (default: debian13-suite/ in the
#               VM cache, $VENUS_VM_CACHE or ~/.cache/venus-vm); kept between runs,
#               so that a second run rebuilds only what changed
#   --head      copy the last commit (git archive HEAD), not the work tree
#   --clean     remove the previous build first
#   MESON_TEST_ARGS  replace the default `--print-errorlogs --no-suite vm`
#
# The test log is DIR/src/build-d13/meson-logs/testlog.json (CI counts it).
# Exit status: meson's (setup, ninja or test), or 125 for a harness failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${VENUS_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/venus-vm}
work=$cache/debian13-suite
head=0
clean=0
while [ $# -gt 0 ]; do
   case "$1" in
   --work) work=$2; shift 2 ;;
   --work=*) work=${1#--work=}; shift ;;
   --head) head=1; shift ;;
   --clean) clean=1; shift ;;
   --) shift; break ;;
   *) echo "usage: $0 [--work DIR] [--head] [--clean] [-- MESON_TEST_ARGS...]" >&2; exit 2 ;;
   esac
done
if [ $# -eq 0 ]; then
   set -- --print-errorlogs --no-suite vm
fi
if [ "$(id -u)" != 0 ]; then
   echo "run_suite_debian13: needs root (the VM harness's namespaces)" >&2
   exit 125
fi
start=$(date +%s)
step() {
   echo "run_suite_debian13: [$(($(date +%s) - start)) s] $*"
}

step "the Debian 13 tree and its build layer (vm.py image --build)"
python3 "$here/vm.py" image --build >/dev/null || exit 125

mkdir -p "$work" || exit 125
work=$(cd "$work" && pwd)
exec 9>"$work/lock"
if ! flock -n 9; then
   echo "run_suite_debian13: waiting for $work/lock (another run)"
   flock 9
fi
copy=$work/src
if [ $clean = 1 ]; then
   rm -rf --one-file-system "$copy"
fi
mkdir -p "$copy/build-d13"
# The files are unpacked into a staging folder, then moved into the copy only
# where their content changed (with the time of the move), and files gone from
# the checkout are removed: ninja then rebuilds exactly what changed, whichever
# of the work tree or HEAD the previous run copied.
stage=$work/stage
rm -rf --one-file-system "$stage"
mkdir -p "$stage"
if [ $head = 1 ]; then
   step "copy of HEAD ($(git -C "$src" rev-parse --short HEAD)) into $copy"
   git -C "$src" archive --format=tar HEAD | tar -xf - -C "$stage" || exit 125
elif git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
   step "copy of the work tree into $copy"
   git -C "$src" ls-files -z --cached --others --exclude-standard |
      (cd "$src" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
      (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$stage" || exit 125
else
   step "copy of $src into $copy"
   (cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$stage" || exit 125
fi
python3 - "$stage" "$copy" <<'PY' || exit 125
import filecmp, os, shutil, sys, time
stage, copy = sys.argv[1:]
keep = {'build-d13'}
changed = 0
present = set()
for d, dirs, files in os.walk(stage):
    rel = os.path.relpath(d, stage)
    present.update(os.path.normpath(os.path.join(rel, x)) for x in dirs + files)
    os.makedirs(os.path.join(copy, rel), exist_ok=True)
    for f in files:
        s, c = os.path.join(d, f), os.path.join(copy, rel, f)
        if os.path.islink(s) or not os.path.isfile(c) or os.path.islink(c) or \
                not filecmp.cmp(s, c, shallow=False):
            if os.path.lexists(c):
                os.remove(c)
            shutil.move(s, c)
            if not os.path.islink(c):
                os.utime(c)
            changed += 1
for d, dirs, files in os.walk(copy, topdown=True):
    rel = os.path.relpath(d, copy)
    if rel == '.':
        dirs[:] = [x for x in dirs if x not in keep]
    for name in files + dirs:
        if os.path.normpath(os.path.join(rel, name)) not in present:
            p = os.path.join(d, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
print('run_suite_debian13: %d file(s) new or changed since the last copy' % changed)
PY
rm -rf --one-file-system "$stage"

# In the chroot: a clean environment (vm.py), root; the Debian package test
# installs into an overlay of this same tree (base and build layer, as
# bind-mounted read-only by vm.py) instead of debootstrapping a chroot.
step "meson setup, ninja, meson test $* (in the Debian 13 chroot)"
python3 "$here/vm.py" host --build --bind "$copy:/venus-debian13/src" --cwd /venus-debian13/src -- \
   env VENUS_DEB_TREE=/venus-vm/build/upper:/venus-vm/tree \
   sh -c '
      set -u
      t0=$(date +%s)
      # a build configured at another path is started over
      if [ -f build-d13/build.ninja ] && ! grep -q "$PWD/" build-d13/build.ninja; then
         rm -rf build-d13 && mkdir build-d13
      fi
      if [ ! -f build-d13/build.ninja ]; then
         meson setup build-d13 --buildtype=debugoptimized >build-d13-setup.log 2>&1 ||
            { cat build-d13-setup.log; exit 1; }
      fi
      dpkg-query -W -f "  \${Package} \${Version}\n" mesa-vulkan-drivers libvulkan-dev \
         virgl-server gcc meson
      nice ninja -C build-d13 >build-d13-ninja.log 2>&1 ||
         { tail -n 80 build-d13-ninja.log; exit 1; }
      t1=$(date +%s)
      echo "run_suite_debian13: build took $((t1 - t0)) s"
      rm -f build-d13/meson-logs/testlog.json
      nice meson test -C build-d13 "$@"
      st=$?
      echo "run_suite_debian13: meson test took $(($(date +%s) - t1)) s"
      exit $st
   ' sh "$@"
st=$?
step "done (status $st); test log $copy/build-d13/meson-logs/testlog.json"
exit $st
