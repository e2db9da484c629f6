#!/bin/sh
# Installs what the project needs on Debian 12 or 13 (apt-get), builds it into
# build/, and runs a Vulkan program through our driver and our server on the
# host's default Vulkan driver (Mesa's lavapipe where there is no GPU).
set -eu
cd "$(dirname "$0")"

SUDO=
if [ "$(id -u)" -ne 0 ]; then
   SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
   build-essential clang meson ninja-build pkg-config python3 \
   libvulkan-dev libvulkan1 mesa-vulkan-drivers vulkan-tools vulkan-validationlayers \
   glslang-tools virgl-server libdrm-dev libseccomp-dev debootstrap \
   libxcb1-dev libxcb-shm0-dev libxcb-present-dev libx11-xcb-dev libx11-dev xvfb \
   libwayland-dev libwayland-bin wayland-protocols weston vkd3d-demos \
   libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri \
   debhelper lintian man-db >/dev/null
# clang's sanitizer and libFuzzer runtimes (the fuzzers, docs/TESTING.md): the
# package named after clang's major version (Debian 12: 14, Debian 13: 19)
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
   "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev" >/dev/null

if [ ! -f build/build.ninja ]; then
   meson setup build --buildtype=debugoptimized
fi
ninja -C build

# The main job: a compute program through libvulkan_venus.so and venus-server.
build/tools/venus-run build/tests/integration/programs/vkt_compute
