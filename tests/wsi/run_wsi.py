#!/usr/bin/env python3
"""Window-system tests: start a private X server (Xvfb on a free display,
found with -displayfd) or a headless Wayland compositor (weston
--backend=headless on a private socket), run programs in it, and always stop
it again.

  run_wsi.py [--wayland] run -- CMD ...
      runs CMD with DISPLAY / WAYLAND_DISPLAY set (and WSI_XVFB_PID, for
      tests that kill the X server mid-run); exit status: CMD's.

  run_wsi.py vkcube --venus-run PATH --shot-lib LIB --frames N [--out DIR]
      runs `vkcube --c N` natively on lavapipe and through our driver (via
      venus-run) in the same X server; LIB (wsi_shot.c, LD_PRELOAD) saves the
      window's content when vkcube destroys it, frame N or, where vkcube ends
      before its last frame is shown (natively too), an earlier one; ours must
      match one of six native captures within --tolerance (max per-channel
      difference, default 0: identical), in at most three runs. All runs must
      exit 0.

  run_wsi.py vkd3d --venus-run PATH
      runs the Direct3D 12 demos of Debian's vkd3d-demos (libvkd3d over
      Vulkan, xcb) natively on lavapipe and through our driver, reading the
      X server's screen (Xvfb -fbdir) while they run: vkd3d-triangle's frame
      must become identical to the native one, vkd3d-gears's frames must
      show its three gears (red, green, blue) and move, as natively. The
      demos never end by themselves; they are stopped once checked.

  run_wsi.py glmark2 --venus-run PATH
      runs `glmark2 --validate` (Debian 13's glmark2-x11: OpenGL 4.6 on
      Mesa's Zink, which draws one frame of each scene and checks its pixels)
      natively on lavapipe and through our driver: the renderer must name our
      device, every scene must end the same way as natively, and at least 20
      scenes must say "Success".
"""

import argparse
import glob
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

# lavapipe's json: lvp_icd.x86_64.json on Debian 12, lvp_icd.json on Debian 13
LVP_ICD = os.environ.get('NATIVE_ICD') or next(
    iter(sorted(glob.glob('/usr/share/vulkan/icd.d/lvp_icd*.json'))), '')


class Xvfb:
    def __init__(self, size='1280x1024x24', fbdir=None):
        self.size = size
        self.fbdir = fbdir
        self.proc = None
        self.display = None

    def __enter__(self):
        xvfb = shutil.which('Xvfb')
        if not xvfb:
            print('SKIP: Xvfb is not installed (apt-get install xvfb)')
            sys.exit(77)
        r, w = os.pipe()
        # -fbdir: the screen is also a file (XWD), read by screen(); -br:
        # a black root window, so that only what a program draws is seen
        extra = ['-fbdir', self.fbdir, '-br'] if self.fbdir else []
        self.proc = subprocess.Popen([xvfb, '-displayfd', str(w), '-screen', '0', self.size,
                                      '-nolisten', 'tcp', '-noreset'] + extra,
                                     pass_fds=(w,), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(w)
        data = b''
        deadline = time.time() + 30
        while not data.endswith(b'\n') and time.time() < deadline:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        if not data.strip():
            self.__exit__(None, None, None)
            raise RuntimeError('Xvfb did not report a display')
        self.display = ':' + data.decode().strip()
        return self

    def env(self):
        return {'DISPLAY': self.display, 'WSI_XVFB_PID': str(self.proc.pid)}

    def screen(self):
        """The screen as (width, height, RGB bytes), from Xvfb's XWD file."""
        with open(os.path.join(self.fbdir, 'Xvfb_screen0'), 'rb') as f:
            data = f.read()
        (header_size, _, _, _, width, height, _, _, _, _, _, bits_per_pixel, bytes_per_line,
         *rest) = struct.unpack('>25I', data[:100])
        ncolors = rest[6]
        if bits_per_pixel != 32:
            raise RuntimeError('Xvfb screen of %d bits per pixel' % bits_per_pixel)
        pixels = data[header_size + ncolors * 12:]
        rgb = bytearray(width * height * 3)
        for y in range(height):
            row = pixels[y * bytes_per_line:y * bytes_per_line + width * 4]
            # 24-bit TrueColor in 32 bits, little-endian: B, G, R, X
            rgb[y * width * 3:(y + 1) * width * 3:3] = row[2::4]
            rgb[y * width * 3 + 1:(y + 1) * width * 3:3] = row[1::4]
            rgb[y * width * 3 + 2:(y + 1) * width * 3:3] = row[0::4]
        return width, height, bytes(rgb)

    def __exit__(self, *exc):
        stop(self.proc)


class Weston:
    def __init__(self):
        self.proc = None
        self.dir = None

    def __enter__(self):
        weston = shutil.which('weston')
        if not weston:
            print('SKIP: weston is not installed (apt-get install weston)')
            sys.exit(77)
        self.dir = tempfile.mkdtemp(prefix='wsi-weston.')
        os.chmod(self.dir, 0o700)
        self.socket = 'wayland-wsi'
        env = dict(os.environ, XDG_RUNTIME_DIR=self.dir)
        self.log = open(os.path.join(self.dir, 'weston.log'), 'w')
        self.proc = subprocess.Popen([weston, '--backend=headless-backend.so', '--socket=' + self.socket,
                                      '--idle-time=0', '--width=1280', '--height=1024'],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        path = os.path.join(self.dir, self.socket)
        deadline = time.time() + 30
        while not os.path.exists(path):
            if self.proc.poll() is not None or time.time() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError('weston did not start')
            time.sleep(0.05)
        return self

    def env(self):
        return {'XDG_RUNTIME_DIR': self.dir, 'WAYLAND_DISPLAY': self.socket,
                'WSI_WESTON_PID': str(self.proc.pid)}

    def __exit__(self, *exc):
        stop(self.proc)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run(cmd, env, timeout=300):
    full = dict(os.environ)
    full.pop('WAYLAND_DISPLAY', None)
    full.update(env)
    print('+ ' + ' '.join(cmd), flush=True)
    return subprocess.run(cmd, env=full, timeout=timeout).returncode


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    parts = data.split(b'\n', 3)
    w, h = (int(v) for v in parts[1].split())
    return w, h, parts[3]


def same_file(a, b):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def compare(a, b, tolerance):
    wa, ha, pa = read_ppm(a)
    wb, hb, pb = read_ppm(b)
    if (wa, ha) != (wb, hb):
        print('size differs: %dx%d vs %dx%d' % (wa, ha, wb, hb))
        return False
    diff_pixels = 0
    max_diff = 0
    for i in range(0, len(pa), 3):
        d = max(abs(pa[i + k] - pb[i + k]) for k in range(3))
        if d:
            diff_pixels += 1
            max_diff = max(max_diff, d)
    colours = len({pa[i:i + 3] for i in range(0, len(pa), 3)})
    if colours <= 16:
        print('the capture looks empty (%d colours)' % colours)
    print('screenshot %dx%d: %d distinct colours, %d pixels differ, max channel difference %d '
          '(tolerance %d)' % (wa, ha, colours, diff_pixels, max_diff, tolerance))
    return colours > 16 and max_diff <= tolerance


def gear_pixels(rgb):
    """Pixels of each of vkd3d-gears's colours: (red, green, blue)."""
    counts = [0, 0, 0]
    for i in range(0, len(rgb), 3):
        c = rgb[i:i + 3]
        top = max(c)
        if top >= 96:
            k = c.index(top)
            if all(c[j] * 2 < top for j in range(3) if j != k):
                counts[k] += 1
    return counts


class Demo:
    """A vkd3d demo running in the background, in a session of its own."""

    def __init__(self, cmd, env):
        full = dict(os.environ)
        full.pop('WAYLAND_DISPLAY', None)
        full.update(env)
        print('+ ' + ' '.join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, env=full, start_new_session=True)

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        stop(self.proc)


def wait_screen(xvfb, demo, ok, seconds):
    """The first screen for which ok(screen, previous) holds, read every
    0.2 s while the demo runs, or None after `seconds` or when it exits."""
    deadline = time.time() + seconds
    previous = None
    while time.time() < deadline:
        if not demo.running():
            print('the demo exited (%d) before its frames were seen' % demo.proc.returncode)
            return None
        screen = xvfb.screen()
        if ok(screen, previous):
            return screen
        previous = screen
        time.sleep(0.2)
    print('no such frame within %d s' % seconds)
    return None


def wait_blank(xvfb, seconds=20):
    """Waits until the screen is all black again (a stopped demo's window
    gone), so that no frame of one run can be taken for the next one's."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        rgb = xvfb.screen()[2]
        if not any(rgb):
            return True
        time.sleep(0.1)
    print('the screen did not clear within %d s' % seconds)
    return False


def show_demo(xvfb, cmd, env, ok, seconds=60):
    """Runs a demo until ok(screen, previous) holds for what the screen
    shows, stops it and waits for the screen to clear: that screen, or None
    (no such screen in time, or the screen did not clear)."""
    demo = Demo(cmd, env)
    got = wait_screen(xvfb, demo, ok, seconds)
    demo.stop()
    return got if wait_blank(xvfb) else None


def vkd3d(xvfb, env, venus_run):
    native_env = dict(env, VK_DRIVER_FILES=LVP_ICD, VK_ICD_FILENAMES=LVP_ICD)
    ours = [venus_run]

    def colours(screen):
        rgb = screen[2]
        return len({rgb[i:i + 3] for i in range(0, len(rgb), 3)})

    # the triangle is still: natively the first frame read twice alike, with
    # the triangle's gradient in it; ours must become that frame exactly
    def settled(screen, previous):
        return screen == previous and colours(screen) > 16

    ref = show_demo(xvfb, ['vkd3d-triangle'], native_env, settled)
    if ref is None:
        print('native vkd3d-triangle showed no frame')
        return 1
    print('native vkd3d-triangle: %d colours' % colours(ref))
    last = []

    def same(screen, previous):
        last[:] = [screen]
        return screen == ref

    got = show_demo(xvfb, ours + ['vkd3d-triangle'], env, same)
    if got is None:
        if last:
            width, height, rgb = last[0]
            diff = sum(1 for i in range(0, len(rgb), 3) if rgb[i:i + 3] != ref[2][i:i + 3])
            print('vkd3d-triangle through Venus: %d of %d pixels differ from native' %
                  (diff, width * height))
        return 1
    print('vkd3d-triangle through Venus: identical to native')

    # the gears turn: two frames that differ, each with the three gears
    def turning(screen, previous):
        return (previous is not None and screen != previous and
                min(gear_pixels(screen[2])) >= 500 and min(gear_pixels(previous[2])) >= 500)

    for name, prefix, e in (('native', [], native_env), ('through Venus', ours, env)):
        got = show_demo(xvfb, prefix + ['vkd3d-gears'], e, turning)
        if got is None:
            print('vkd3d-gears %s: no two turning frames with three gears' % name)
            return 1
        print('vkd3d-gears %s: gears of %s pixels (red, green, blue), turning' %
              (name, gear_pixels(got[2])))
    return 0


def glmark2(env, venus_run):
    # OpenGL on Zink through Mesa's software window-system path (frames
    # copied into the X window), with no shader cache of its own
    gl_env = dict(env, GALLIUM_DRIVER='zink', LIBGL_ALWAYS_SOFTWARE='1',
                  MESA_SHADER_CACHE_DISABLE='true')
    native_env = dict(gl_env, VK_DRIVER_FILES=LVP_ICD, VK_ICD_FILENAMES=LVP_ICD)
    results = {}
    for name, prefix, e in (('native', [], native_env), ('ours', [venus_run], gl_env)):
        full = dict(os.environ)
        full.pop('WAYLAND_DISPLAY', None)
        full.update(e)
        cmd = prefix + ['glmark2', '--validate']
        print('+ ' + ' '.join(cmd), flush=True)
        p = subprocess.run(cmd, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        out = p.stdout.decode(errors='replace')
        renderer = [l.split(':', 1)[1].strip() for l in out.splitlines()
                    if 'GL_RENDERER:' in l]
        scenes = {}
        for line in out.splitlines():
            if line.startswith('[') and ': Validation: ' in line:
                scene, verdict = line.rsplit(': Validation: ', 1)
                scenes[scene] = verdict.strip()
        ok = sum(1 for v in scenes.values() if v == 'Success')
        print('glmark2 %s: exit status %d, renderer %s, %d scenes, %d Success' %
              (name, p.returncode, renderer[0] if renderer else '?', len(scenes), ok))
        if p.returncode != 0 or not renderer or not renderer[0].startswith('zink'):
            print(out[-3000:])
            return 1
        results[name] = (renderer[0], scenes, ok)
    if 'Venus' not in results['ours'][0]:
        print('through our driver the renderer is not our device')
        return 1
    native, ours = results['native'][1], results['ours'][1]
    differ = sorted(set(native) | set(ours), key=str)
    differ = [k for k in differ if native.get(k) != ours.get(k)]
    for k in differ:
        print('  %s: native %s, ours %s' % (k, native.get(k), ours.get(k)))
    if differ or results['native'][2] < 20 or results['ours'][2] < 20:
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--wayland', action='store_true')
    sub = ap.add_subparsers(dest='mode', required=True)
    r = sub.add_parser('run')
    r.add_argument('cmd', nargs=argparse.REMAINDER)
    v = sub.add_parser('vkcube')
    v.add_argument('--venus-run', required=True)
    v.add_argument('--shot-lib', required=True)
    v.add_argument('--frames', type=int, default=60)
    v.add_argument('--tolerance', type=int, default=0)
    v.add_argument('--out')
    d = sub.add_parser('vkd3d')
    d.add_argument('--venus-run', required=True)
    g = sub.add_parser('glmark2')
    g.add_argument('--venus-run', required=True)
    args = ap.parse_args()

    if args.mode == 'glmark2':
        if not shutil.which('glmark2'):
            print('SKIP: glmark2 is not installed (Debian 13: apt-get install glmark2-x11)')
            return 77
        with Xvfb('1024x768x24') as xvfb:
            return glmark2(xvfb.env(), args.venus_run)

    if args.mode == 'vkd3d':
        if not shutil.which('vkd3d-triangle') or not shutil.which('vkd3d-gears'):
            print('SKIP: vkd3d-demos is not installed (apt-get install vkd3d-demos)')
            return 77
        fbdir = tempfile.mkdtemp(prefix='wsi-vkd3d.')
        try:
            with Xvfb('800x600x24', fbdir) as xvfb:
                return vkd3d(xvfb, xvfb.env(), args.venus_run)
        finally:
            shutil.rmtree(fbdir, ignore_errors=True)

    server = Weston() if args.wayland else Xvfb()
    with server:
        env = server.env()
        if args.mode == 'run':
            cmd = args.cmd[1:] if args.cmd and args.cmd[0] == '--' else args.cmd
            return run(cmd, env)

        args.shot_lib = os.path.abspath(args.shot_lib)
        out = args.out or tempfile.mkdtemp(prefix='wsi-vkcube.')
        native = os.path.join(out, 'vkcube_native.ppm')
        ours = os.path.join(out, 'vkcube_venus.ppm')
        vkcube = ['vkcube', '--c', str(args.frames)]
        # vkcube may destroy its window before its last frame is shown, on
        # either stack (seen natively on a loaded host: frame N-1 or N-2), so
        # the native run is made 6 times and every distinct capture kept; ours
        # must equal one of them, in at most 3 runs; every run must exit 0
        native_env = dict(env, VK_DRIVER_FILES=LVP_ICD, VK_ICD_FILENAMES=LVP_ICD,
                          LD_PRELOAD=args.shot_lib)
        refs = []
        for attempt in range(6):
            shot = os.path.join(out, 'vkcube_native.%d.ppm' % attempt)
            rc = run(vkcube, dict(native_env, WSI_SHOT_FILE=shot))
            if rc != 0:
                print('native vkcube failed (%d)' % rc)
                return 1
            if not any(same_file(r, shot) for r in refs):
                refs.append(shot)
        print('native captures: 6, %d distinct' % len(refs))
        shutil.copyfile(refs[-1], native)
        ok = False
        for attempt in range(3):
            rc = run([args.venus_run] + vkcube, dict(env, LD_PRELOAD=args.shot_lib,
                                                    WSI_SHOT_FILE=ours))
            if rc != 0:
                print('vkcube through Venus failed (%d)' % rc)
                return 1
            ok = any(compare(r, ours, args.tolerance) for r in refs)
            if ok:
                break
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
        return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
