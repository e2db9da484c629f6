#!/usr/bin/env python3
"""The VM test harness: a Debian 13 guest in QEMU (TCG) with a Venus virtio-gpu.

    vm.py image [--build]            build the cache if needed; print its path
    vm.py host [--build] [--bind HOST:CHROOT]... [--cwd DIR] -- CMD [ARGS...]
                                     run CMD in the Debian 13 tree (the host chroot);
                                     --build: with the build layer (packages-build.txt:
                                     compilers, headers; tests/vm/run_suite_debian13.sh)
    vm.py run [--venus on|off] [--timeout S] [--smp N] [--mem SIZE] [--output DIR]
              [--renderer-lib DIR] [--qemu-log FILE] [--kill-qemu-on LINE]
              [--frozen-after S] PAYLOAD_DIR
                                     boot the guest and run PAYLOAD_DIR/run.sh in it
                                     (--renderer-lib: QEMU loads libvirglrenderer.so.1
                                     from DIR, e.g. our VMM library's build folder)

See docs/vm.md. Python 3 standard library only; needs root (mount and PID
namespaces), util-linux (unshare, mount), e2fsprogs (mke2fs) and, to build the
cache, debootstrap and a Debian mirror.

Everything a command mounts or starts lives in private mount, PID, IPC, UTS and
network namespaces (unshare --kill-child) whose first process is this script
(`vm.py _ns ...`): when that process ends, however it ends, the kernel kills every
process left in it and drops every mount, tmpfs included. The cache is only read:
the chroot is an overlay whose upper layer is a tmpfs, and the guest's root disk is
attached with snapshot=on.

Exit status of `run`: run.sh's status when the guest reported it; otherwise one of
the EXIT_* values below, each printed with one `vm.py: ...` line.
"""

import argparse
import ctypes
import fcntl
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILDER = os.path.join(HERE, 'build_image.sh')
PACKAGES = os.path.join(HERE, 'packages.txt')
PACKAGES_BUILD = os.path.join(HERE, 'packages-build.txt')
GUEST_INIT = os.path.join(HERE, 'guest-init.sh')

EXIT_QEMU_CRASH = 122  # QEMU ended abnormally after the guest had started booting
EXIT_NO_MARKER = 121   # the guest stopped (powered off, panicked) before run.sh finished
EXIT_FROZEN = 123      # the guest's heartbeat stopped (--frozen-after); QEMU was killed
EXIT_TIMEOUT = 124     # --timeout passed; QEMU was killed
EXIT_HARNESS = 125     # the harness failed: cache build, Xvfb or QEMU start, usage
EXIT_WORKERS_LEFT = 120  # --renderer-lib: renderer workers outlived QEMU

# Where the cache entry (built by build_image.sh) appears inside each namespace.
IMG_IN_ROOT = '/venus-vm'
RUN_IN_ROOT = '/tmp/venus-run'
RENDERER_LIB_IN_ROOT = '/venus-renderer-lib'
CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# No fbdev emulation: with a framebuffer console on the virtio-gpu, every console
# update is a scanout flush that QEMU holds until its GTK display has drawn it.
# A task stuck for 120 s panics the guest (status 121) instead of waiting for
# --timeout.
KERNEL_CMDLINE = ('console=ttyS0 root=/dev/vda rw rootfstype=ext4 '
                  'init=/sbin/venus-guest-init quiet panic=-1 oops=panic '
                  'hung_task_panic=1 drm_kms_helper.fbdev_emulation=0 '
                  'mitigations=off fsck.mode=skip')
OUTPUT_SIZE = '1G'  # sparse; only what the guest writes takes memory
MARKER_START = 'VENUS-VM-START'
# The guest (guest-init.sh) writes a byte every 5 s to its second
# serial port while run.sh runs. Under TCG the whole guest now and then stops
# (no output, QEMU idle with its vCPU halted: docs/vm.md); a heartbeat that
# stops for --frozen-after s tells that apart from a program that is only
# quiet, so that the test scripts can repeat such a run.
FROZEN_AFTER = 90
MARKER_EXIT = re.compile(r'VENUS-VM-EXIT (\d+)\s*$')


def say(msg):
    print('vm.py: ' + msg, flush=True)


def fail(msg, status=EXIT_HARNESS):
    say(msg)
    sys.exit(status)


def tail(path, lines=30):
    try:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8', 'replace')
    except OSError:
        return '(no %s)' % os.path.basename(path)
    return '\n'.join(text.splitlines()[-lines:])


# ---------------------------------------------------------------- the cache

def cache_dir():
    root = os.environ.get('VENUS_VM_CACHE')
    if not root:
        base = os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache')
        root = os.path.join(base, 'venus-vm')
    return os.path.abspath(root)


def image_stamp():
    """Key of the cache entry: what build_image.sh builds from."""
    h = hashlib.sha256()
    for path in (BUILDER, PACKAGES, GUEST_INIT):
        with open(path, 'rb') as f:
            data = f.read()
        h.update(b'%s %d\n' % (os.path.basename(path).encode(), len(data)))
        h.update(data)
    return h.hexdigest()


def layer_stamp(stamp):
    """Key of the build layer: the image's key and packages-build.txt."""
    h = hashlib.sha256(stamp.encode())
    with open(PACKAGES_BUILD, 'rb') as f:
        h.update(f.read())
    return h.hexdigest()


def image_ready(img, stamp, build=False):
    """Whether img (and, with build, its build layer img/build) matches stamp."""
    try:
        with open(os.path.join(img, 'stamp')) as f:
            if f.read().strip() != stamp:
                return False
        if build:
            with open(os.path.join(img, 'build', 'stamp')) as f:
                return f.read().strip() == layer_stamp(stamp)
        return True
    except OSError:
        return False


def remove_tree(path):
    # --one-file-system: never follow into anything mounted below (there should
    # be nothing: builds mount only inside their own namespace)
    subprocess.run(['rm', '-rf', '--one-file-system', path], check=False)


def ensure_image(build=False):
    """Returns (image dir, lock file). The caller holds a shared lock on the cache
    while it uses the image; a rebuild takes it exclusively. build: the build
    layer (img/build) too."""
    if os.geteuid() != 0:
        fail('needs root (mount and PID namespaces, debootstrap)')
    root = cache_dir()
    os.makedirs(root, exist_ok=True)
    img = os.path.join(root, 'image')
    stamp = image_stamp()
    lock = open(os.path.join(root, 'lock'), 'a+')
    fcntl.flock(lock, fcntl.LOCK_SH)
    if image_ready(img, stamp, build):
        return img, lock
    fcntl.flock(lock, fcntl.LOCK_UN)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say('waiting for the cache lock (another vm.py is building or using %s)' % root)
        fcntl.flock(lock, fcntl.LOCK_EX)
    if not image_ready(img, stamp):
        build_image(root, img, stamp)
    if build and not image_ready(img, stamp, build):
        build_layer(root, img, stamp)
    fcntl.flock(lock, fcntl.LOCK_SH)
    return img, lock


def build_image(root, img, stamp):
    if not shutil.which('debootstrap'):
        fail('building the cache needs debootstrap (apt-get install debootstrap)')
    # leftovers of interrupted builds and replaced entries (we hold the lock)
    for name in os.listdir(root):
        if name.startswith(('image.tmp.', 'image.old.')):
            remove_tree(os.path.join(root, name))
    tmp = os.path.join(root, 'image.tmp.%d' % os.getpid())
    os.mkdir(tmp)
    log_path = os.path.join(tmp, 'build.log')
    say('building the cache in %s (several minutes; log in %s)' % (img, log_path))
    start = time.monotonic()
    cmd = ns_command(net=False) + ['sh', BUILDER, tmp, PACKAGES, GUEST_INIT,
                                   os.path.join(root, 'debs')]
    try:
        with open(log_path, 'wb') as log:
            p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, session=True)
            with Interruptible(p):
                for line in p.stdout:
                    log.write(line)
                    log.flush()
                    if line.startswith(b'build_image:'):
                        sys.stdout.write(line.decode('utf-8', 'replace'))
                        sys.stdout.flush()
                status = p.wait()
    except SystemExit:  # interrupted: the namespace is gone, so is the build
        remove_tree(tmp)
        raise
    if status != 0:
        kept = os.path.join(root, 'build-failed.log')
        shutil.copyfile(log_path, kept)
        remove_tree(tmp)
        print(tail(kept, 40))
        fail('building the cache failed (status %d); log in %s' % (status, kept))
    with open(os.path.join(tmp, 'stamp'), 'w') as f:
        f.write(stamp + '\n')
    if os.path.exists(img):
        old = os.path.join(root, 'image.old.%d' % os.getpid())
        os.rename(img, old)
        os.rename(tmp, img)
        remove_tree(old)
    else:
        os.rename(tmp, img)
    say('cache built in %.0f s' % (time.monotonic() - start))


def build_layer(root, img, stamp):
    """Builds img/build (build_image.sh --layer): packages-build.txt installed
    over img/tree, kept as an overlay upper directory."""
    layer = os.path.join(img, 'build')
    for name in os.listdir(img):
        if name.startswith(('build.tmp.', 'build.old.')):
            remove_tree(os.path.join(img, name))
    tmp = os.path.join(img, 'build.tmp.%d' % os.getpid())
    os.mkdir(tmp)
    log_path = os.path.join(tmp, 'build.log')
    say('building the build layer in %s (a few minutes; log in %s)' % (layer, log_path))
    start = time.monotonic()
    cmd = ns_command(net=False) + ['sh', BUILDER, '--layer', tmp, os.path.join(img, 'tree'),
                                   PACKAGES_BUILD, os.path.join(root, 'debs')]
    try:
        with open(log_path, 'wb') as log:
            p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, session=True)
            with Interruptible(p):
                for line in p.stdout:
                    log.write(line)
                    log.flush()
                    if line.startswith(b'build_image:'):
                        sys.stdout.write(line.decode('utf-8', 'replace'))
                        sys.stdout.flush()
                status = p.wait()
    except SystemExit:
        remove_tree(tmp)
        raise
    if status != 0:
        kept = os.path.join(root, 'build-failed.log')
        shutil.copyfile(log_path, kept)
        remove_tree(tmp)
        print(tail(kept, 40))
        fail('building the build layer failed (status %d); log in %s' % (status, kept))
    with open(os.path.join(tmp, 'stamp'), 'w') as f:
        f.write(layer_stamp(stamp) + '\n')
    if os.path.exists(layer):
        old = os.path.join(img, 'build.old.%d' % os.getpid())
        os.rename(layer, old)
        os.rename(tmp, layer)
        remove_tree(old)
    else:
        os.rename(tmp, layer)
    say('build layer built in %.0f s' % (time.monotonic() - start))


# ---------------------------------------------------------- the namespaces

def ns_command(net=True):
    cmd = ['unshare', '--mount', '--pid', '--ipc', '--uts', '--fork',
           '--kill-child', '--propagation', 'private', '--mount-proc']
    if net:
        cmd.append('--net')
    return cmd + ['--']


def set_pdeathsig():
    # unshare dies with us (even on SIGKILL); --kill-child makes its child, the
    # namespace's PID 1, die with unshare; the kernel then kills the rest.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def spawn(cmd, session, **kwargs):
    return subprocess.Popen(cmd, preexec_fn=set_pdeathsig, start_new_session=session,
                            **kwargs)


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


class Interruptible:
    """While active, SIGINT/SIGTERM/SIGHUP kill the namespace started by `unshare`
    process p (SIGKILL to its PID 1, then wait: when unshare's wait returns, every
    process of the namespace has been reaped) and exit with 128 + signal."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self, p):
        self.p = p
        self.old = {}

    def __enter__(self):
        def handler(signum, frame):
            raise Interrupted(signum)
        for s in self.SIGNALS:
            self.old[s] = signal.signal(s, handler)
        return self

    def __exit__(self, typ, value, tb):
        if typ is None:
            self.restore()
            return False
        # ignore further signals while we clean up
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        kill_namespace(self.p)
        if typ is Interrupted:
            say('interrupted by %s; everything it started is gone'
                % signal.Signals(value.signum).name)
            sys.exit(128 + value.signum)
        return False

    def restore(self):
        for s, h in self.old.items():
            signal.signal(s, h)


def kill_namespace(p):
    if p.poll() is not None:
        return
    children = []
    try:
        with open('/proc/%d/task/%d/children' % (p.pid, p.pid)) as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        pass
    # SIGTERM first: PID 1 exits at once (ns_main), unshare reports its status
    # plainly; SIGKILL if that did not end it
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
        for c in children:
            try:
                os.kill(c, sig)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            pass
    p.kill()
    p.wait()


def run_namespace(args, session, timeout=None):
    """Runs `vm.py _ns ARGS` in fresh namespaces; returns its exit status."""
    cmd = ns_command() + [sys.executable, os.path.abspath(__file__), '_ns'] + args
    p = spawn(cmd, session=session)
    with Interruptible(p):
        if session:
            try:
                return p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_namespace(p)
                fail('the namespace did not end %d s after its timeout; killed' %
                     (timeout,))
        # `host` shares our process group: a terminal's ^C reaches CMD itself
        # and we wait for it to end, as a shell does
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return p.wait()


# ------------------------------------------------- inside the namespaces

def sh(*cmd):
    subprocess.run(cmd, check=True)


def make_root(img, binds=(), build=False):
    """Mounts a writable overlay of img/tree (under img/build/upper with build) on
    a private tmpfs and returns its path: the chroot of `host` and of QEMU.
    Called as PID 1 of the namespaces."""
    mnt = os.path.join(img, 'mnt')
    sh('mount', '-t', 'tmpfs', '-o', 'mode=755', 'venus-vm', mnt)
    for d in ('upper', 'work', 'root'):
        os.mkdir(os.path.join(mnt, d))
    root = os.path.join(mnt, 'root')
    lower = os.path.join(img, 'tree')
    if build:
        lower = os.path.join(img, 'build', 'upper') + ':' + lower
    sh('mount', '-t', 'overlay', 'venus-vm-root', '-o',
       'lowerdir=%s,upperdir=%s,workdir=%s' % (lower,
                                              os.path.join(mnt, 'upper'),
                                              os.path.join(mnt, 'work')), root)
    sh('mount', '--rbind', '/dev', root + '/dev')
    sh('mount', '-t', 'tmpfs', '-o', 'mode=1777', 'shm', root + '/dev/shm')
    sh('mount', '-t', 'proc', 'proc', root + '/proc')
    sh('mount', '--rbind', '/sys', root + '/sys')
    os.makedirs(root + IMG_IN_ROOT, exist_ok=True)
    sh('mount', '--bind', '-o', 'ro', img, root + IMG_IN_ROOT)
    for host_dir, chroot_dir in binds:
        target = root + chroot_dir
        os.makedirs(target, exist_ok=True)
        sh('mount', '--rbind', host_dir, target)
    return root


def chroot_env(**extra):
    env = {'PATH': CHROOT_PATH, 'HOME': '/root', 'TMPDIR': '/tmp', 'LANG': 'C.UTF-8',
           'VENUS_VM_RUN_ID': os.environ.get('VENUS_VM_RUN_ID', '')}
    if 'TERM' in os.environ:
        env['TERM'] = os.environ['TERM']
    env.update(extra)
    return env


def ns_host(a):
    root = make_root(a.image, a.bind, a.build)
    cmd = ['chroot', root, 'sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh',
           a.cwd] + a.cmd
    p = subprocess.Popen(cmd, env=chroot_env())
    while True:
        try:
            status = p.wait()
            break
        except KeyboardInterrupt:
            continue
    return status if status >= 0 else 128 - status


def start_xvfb(root, run):
    """Starts Xvfb in the chroot; returns (process, display) or exits EXIT_HARNESS."""
    log_path = root + run + '/xvfb.log'
    r, w = os.pipe()
    with open(log_path, 'wb') as log:
        xvfb = subprocess.Popen(
            ['chroot', root, 'Xvfb', '-displayfd', str(w), '-screen', '0', '1280x800x24',
             '-nolisten', 'tcp', '-noreset'],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(w,),
            env=chroot_env())
    os.close(w)
    data = b''
    deadline = time.monotonic() + 30
    while not data.endswith(b'\n') and time.monotonic() < deadline:
        ready, _, _ = select.select([r], [], [], 0.5)
        if ready:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        elif xvfb.poll() is not None:
            break
    os.close(r)
    if not data.strip().isdigit():
        print(tail(log_path))
        fail('harness failure: Xvfb did not start (log above)')
    return xvfb, ':' + data.strip().decode()


def make_payload(payload, root, run):
    """Copies PAYLOAD_DIR (symbolic links followed) and packs it into an ext4
    image; returns the image's path in the chroot."""
    stage = root + run + '/payload'
    shutil.copytree(payload, stage, symlinks=False)
    total = 0
    for d, _, files in os.walk(stage):
        for f in files:
            total += os.lstat(os.path.join(d, f)).st_size + 4096
    size_mib = max(16, total * 5 // 4 // (1 << 20) + 16)
    image = run + '/payload.img'
    r = subprocess.run(['mke2fs', '-q', '-t', 'ext4', '-O', '^has_journal', '-L', 'payload',
                        '-E', 'root_owner=0:0', '-d', stage, root + image,
                        '%dM' % size_mib], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout.decode('utf-8', 'replace'))
        fail('harness failure: mke2fs of the payload failed')
    shutil.rmtree(stage)
    return image


def make_output(root, run):
    """An empty ext4 image (sparse, in the run's tmpfs) for the guest's /output."""
    image = run + '/output.img'
    r = subprocess.run(['mke2fs', '-q', '-t', 'ext4', '-O', '^has_journal', '-L', 'output',
                        '-E', 'root_owner=0:0', root + image, OUTPUT_SIZE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout.decode('utf-8', 'replace'))
        fail('harness failure: mke2fs of the output disk failed')
    return image


def copy_output(image, dest):
    """Copies the output disk's files into dest with debugfs (no mount needed).
    Returns the number of top-level entries copied."""
    os.makedirs(dest, exist_ok=True)
    r = subprocess.run(['debugfs', '-R', 'ls -p /', image], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    names = []
    for line in r.stdout.decode('utf-8', 'replace').splitlines():
        fields = line.split('/')
        if len(fields) > 5 and fields[5] not in ('', '.', '..', 'lost+found'):
            names.append(fields[5])
    for name in names:
        subprocess.run(['debugfs', '-R', 'rdump "/%s" "%s"' % (name, dest), image],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return len(names)


def qemu_command(a, payload_image, output_image, run):
    gpu = 'virtio-gpu-gl-pci'
    if a.venus == 'on':
        gpu += ',venus=on,blob=on,hostmem=%s' % a.hostmem
    return [
        'qemu-system-x86_64', '-name', 'venus-vm', '-nodefaults', '-no-user-config',
        '-machine', 'q35', '-accel', 'tcg,thread=multi', '-cpu', 'max',
        '-smp', str(a.smp), '-m', a.mem,
        '-kernel', IMG_IN_ROOT + '/vmlinuz', '-initrd', IMG_IN_ROOT + '/initrd.img',
        '-append', ' '.join([KERNEL_CMDLINE] + a.kernel_args),
        '-drive', 'file=%s/guest.img,format=raw,if=virtio,snapshot=on,cache=unsafe'
        % IMG_IN_ROOT,
        '-drive', 'file=%s,format=raw,if=virtio,readonly=on' % payload_image,
    ] + ([
        '-drive', 'file=%s,format=raw,if=virtio' % output_image,
    ] if output_image else []) + [
        '-device', gpu, '-display', 'gtk,gl=on',
        '-chardev', 'file,id=console,path=%s/serial.log' % run, '-serial', 'chardev:console',
        '-chardev', 'file,id=heartbeat,path=%s/heartbeat.log' % run,
        '-serial', 'chardev:heartbeat',
        '-nic', 'none', '-no-reboot',
    ]


class Console:
    """Follows the serial log: echoes complete lines, reports the markers."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.partial = b''

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path, 'rb')
            except FileNotFoundError:
                return []
        data = self.f.read()
        if not data:
            return []
        data = self.partial + data
        lines = data.split(b'\n')
        self.partial = lines.pop()
        out = []
        for raw in lines:
            line = raw.decode('utf-8', 'replace').replace('\r', '')
            print(line, flush=True)
            out.append(line)
        return out

    def flush(self):
        out = self.poll()
        if self.partial:
            line = self.partial.decode('utf-8', 'replace').replace('\r', '')
            print(line, flush=True)
            out.append(line)
            self.partial = b''
        return out


def ns_run(a):
    t0 = time.monotonic()
    binds = [(a.renderer_lib, RENDERER_LIB_IN_ROOT)] if a.renderer_lib else []
    root = make_root(a.image, binds)
    run = RUN_IN_ROOT
    os.makedirs(root + run)
    payload_image = make_payload(a.payload, root, run)
    output_image = make_output(root, run) if a.output else None
    xvfb, display = start_xvfb(root, run)
    xdg = '/tmp/xdg-runtime'
    os.makedirs(root + xdg, mode=0o700)
    env = chroot_env(DISPLAY=display, GDK_BACKEND='x11', XDG_RUNTIME_DIR=xdg,
                     NO_AT_BRIDGE='1')
    if a.renderer_lib:
        # QEMU's virtio-gpu-gl module loads libvirglrenderer.so.1 from here
        env['LD_LIBRARY_PATH'] = RENDERER_LIB_IN_ROOT
        for k, v in os.environ.items():
            if k.startswith(('VENUS_', 'VK_')) and k not in env:
                env[k] = v
    qemu_log = root + run + '/qemu.log'
    cmd = ['chroot', root] + qemu_command(a, payload_image, output_image, run)
    say('starting QEMU (TCG, -smp %d -m %s, venus=%s%s), timeout %d s'
        % (a.smp, a.mem, a.venus,
           ', renderer from ' + a.renderer_lib if a.renderer_lib else '', a.timeout))
    with open(qemu_log, 'wb') as log:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env)
    t_qemu = time.monotonic()
    console = Console(root + run + '/serial.log')
    heartbeat_log = root + run + '/heartbeat.log'
    heartbeat_size = 0
    t_heartbeat = None  # when the heartbeat last grew; None before the first beat
    t_start = None
    guest_status = None
    seen_output = False
    timed_out = False
    frozen = False
    kill_now = False

    def scan(lines):
        nonlocal t_start, guest_status, seen_output, kill_now
        for line in lines:
            seen_output = True
            if a.kill_qemu_on and line.strip() == a.kill_qemu_on:
                kill_now = True
            if line.strip() == MARKER_START and t_start is None:
                t_start = time.monotonic()
            m = MARKER_EXIT.search(line)
            if m and guest_status is None:
                guest_status = int(m.group(1))

    while qemu.poll() is None:
        scan(console.poll())
        if kill_now:
            say('the guest printed %r: killing QEMU (SIGKILL)' % a.kill_qemu_on)
            qemu.kill()
            qemu.wait()
            break
        if guest_status is not None:
            # the guest is powering off; give it a moment, then stop QEMU
            try:
                qemu.wait(timeout=20)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()
            break
        now = time.monotonic()
        try:
            size = os.path.getsize(heartbeat_log)
        except OSError:
            size = 0
        if size != heartbeat_size:
            heartbeat_size = size
            t_heartbeat = now
        if t_heartbeat is not None and now - t_heartbeat > a.frozen_after:
            frozen = True
            qemu.kill()
            qemu.wait()
            break
        if now - t_qemu > a.timeout:
            timed_out = True
            qemu.kill()
            qemu.wait()
            break
        time.sleep(0.1)
    scan(console.flush())
    t_end = time.monotonic()
    qemu_status = qemu.returncode
    xvfb.kill()
    xvfb.wait()
    if output_image:
        n = copy_output(root + output_image, a.output)
        say('copied %d entr%s of /output into %s' % (n, 'y' if n == 1 else 'ies', a.output))
    if a.qemu_log:
        shutil.copyfile(qemu_log, a.qemu_log)
    workers_left = count_renderer_workers() if a.renderer_lib else 0

    boot = '%.1f s' % (t_start - t_qemu) if t_start else 'not reached'
    script = '%.1f s' % (t_end - t_start) if t_start else '-'
    say('times: setup %.1f s, boot to run.sh %s, run.sh %s, total %.1f s'
        % (t_qemu - t0, boot, script, t_end - t0))
    if a.renderer_lib:
        say('renderer worker processes left after QEMU ended: %d' % workers_left)
        if workers_left:
            return EXIT_WORKERS_LEFT
    if kill_now:
        return 0
    if guest_status is not None:
        say('run.sh exited with status %d' % guest_status)
        return guest_status
    if frozen:
        if os.path.getsize(qemu_log):
            print(tail(qemu_log))
        say('guest frozen: no heartbeat for %d s (known QEMU TCG failure, docs/vm.md); '
            'QEMU killed' % a.frozen_after)
        return EXIT_FROZEN
    if timed_out:
        if os.path.getsize(qemu_log):
            print(tail(qemu_log))
        say('timeout: run.sh did not finish within %d s; QEMU killed' % a.timeout)
        return EXIT_TIMEOUT
    if qemu_status != 0:
        print(tail(qemu_log))
        what = 'crashed' if seen_output else 'failed to start'
        say('harness failure: QEMU %s (status %d; log above)' % (what, qemu_status))
        return EXIT_QEMU_CRASH if seen_output else EXIT_HARNESS
    if os.path.getsize(qemu_log):
        print(tail(qemu_log))
    say('guest stopped before run.sh finished (no VENUS-VM-EXIT line)')
    return EXIT_NO_MARKER


def count_renderer_workers(grace=10):
    """Our VMM library's worker processes still alive in this PID namespace
    (they end at end of file on their socket, or by PR_SET_PDEATHSIG), after
    giving them `grace` seconds."""
    deadline = time.monotonic() + grace
    while True:
        left = 0
        for pid in os.listdir('/proc'):
            try:
                with open('/proc/%s/comm' % pid) as f:
                    comm = f.read().strip()
                with open('/proc/%s/stat' % pid) as f:
                    state = f.read().rsplit(')', 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if comm.startswith('venus-vmm-w') and state != 'Z':
                left += 1
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def ns_main(argv):
    # PID 1 of the namespaces: SIGTERM/SIGINT sent here end the namespace
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda signum, frame: sys.exit(128 + signum))
    p = argparse.ArgumentParser(prog='vm.py _ns')
    sub = p.add_subparsers(dest='what', required=True)
    h = sub.add_parser('host')
    h.add_argument('image')
    h.add_argument('cwd')
    h.add_argument('--bind', action='append', default=[], type=parse_bind)
    h.add_argument('--build', action='store_true')
    h.add_argument('cmd', nargs='+')
    r = sub.add_parser('run')
    r.add_argument('image')
    r.add_argument('payload')
    r.add_argument('--venus')
    r.add_argument('--timeout', type=int)
    r.add_argument('--smp', type=int)
    r.add_argument('--mem')
    r.add_argument('--hostmem')
    r.add_argument('--renderer-lib')
    r.add_argument('--qemu-log')
    r.add_argument('--kill-qemu-on')
    r.add_argument('--frozen-after', type=int)
    r.add_argument('--kernel-arg', dest='kernel_args', action='append', default=[])
    r.add_argument('--output')
    a = p.parse_args(argv)
    if a.what == 'host':
        return ns_host(a)
    return ns_run(a)


# ------------------------------------------------------------- front end

def parse_bind(text):
    host_dir, sep, chroot_dir = text.partition(':')
    if not sep or not host_dir or not chroot_dir.startswith('/'):
        raise argparse.ArgumentTypeError('expected HOSTDIR:/CHROOTDIR, got %r' % text)
    return os.path.abspath(host_dir), os.path.normpath(chroot_dir)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '_ns':
        sys.exit(ns_main(sys.argv[2:]))
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='what', required=True)
    i = sub.add_parser('image', help='build the cache if needed and print its path')
    i.add_argument('--build', action='store_true',
                   help='the build layer too (packages-build.txt)')
    h = sub.add_parser('host', help='run a command in the Debian 13 tree (chroot)')
    h.add_argument('--build', action='store_true',
                   help='with the build layer (packages-build.txt: compilers, headers)')
    h.add_argument('--bind', action='append', default=[], type=parse_bind,
                   metavar='HOSTDIR:CHROOTDIR', help='bind-mount (read-write)')
    h.add_argument('--cwd', default='/', help='working directory in the chroot')
    h.add_argument('cmd', nargs=argparse.REMAINDER, metavar='-- CMD [ARGS...]')
    r = sub.add_parser('run', help='boot the guest and run PAYLOAD_DIR/run.sh')
    r.add_argument('--venus', choices=('on', 'off'), default='on',
                   help='on: virtio-gpu-gl with Venus; off: virgl only (no Venus)')
    r.add_argument('--timeout', type=int, default=600,
                   help='seconds from QEMU start until run.sh must have finished')
    r.add_argument('--smp', type=int, default=2)
    r.add_argument('--mem', default='2G')
    r.add_argument('--hostmem', default='512M', help='size of the host-visible BAR')
    r.add_argument('--renderer-lib', metavar='DIR',
                   help='QEMU loads libvirglrenderer.so.1 from DIR (bind-mounted, '
                        'LD_LIBRARY_PATH); VENUS_* and VK_* variables '
                        'are passed on to QEMU; fails (status 120) if any of its '
                        'worker processes outlive QEMU')
    r.add_argument('--qemu-log', metavar='FILE', help="copy QEMU's output to FILE")
    r.add_argument('--kill-qemu-on', metavar='LINE',
                   help='SIGKILL QEMU when the guest prints LINE (status 0 then, '
                        'unless workers are left)')
    r.add_argument('--frozen-after', type=int, default=FROZEN_AFTER, metavar='S',
                   help='kill QEMU (status %d) when the guest, once its heartbeat '
                        'began, sent none for S seconds (default %d)'
                        % (EXIT_FROZEN, FROZEN_AFTER))
    r.add_argument('--kernel-arg', dest='kernel_args', action='append', default=[],
                   metavar='ARG', help='append ARG to the guest kernel command line')
    r.add_argument('--output', metavar='DIR',
                   help='give the guest a writable /output (%s) and copy its files '
                   'into DIR after the run' % OUTPUT_SIZE)
    r.add_argument('payload', metavar='PAYLOAD_DIR')
    a = p.parse_args()

    if a.what == 'run':
        payload = os.path.abspath(a.payload)
        if not os.path.isfile(os.path.join(payload, 'run.sh')):
            fail('%s/run.sh does not exist' % payload)
        if a.renderer_lib:
            a.renderer_lib = os.path.abspath(a.renderer_lib)
            if not os.path.exists(os.path.join(a.renderer_lib, 'libvirglrenderer.so.1')):
                fail('%s/libvirglrenderer.so.1 does not exist' % a.renderer_lib)
    if a.what == 'host':
        if a.cmd and a.cmd[0] == '--':
            a.cmd = a.cmd[1:]
        if not a.cmd:
            fail('usage: vm.py host [--bind HOSTDIR:CHROOTDIR]... -- CMD [ARGS...]')
    for tool in ('unshare', 'mount', 'mke2fs', 'debugfs'):
        if not shutil.which(tool):
            fail('harness failure: %s not found (util-linux, e2fsprogs)' % tool)

    # every process of this command carries it (tests look for leftovers with it)
    os.environ.setdefault('VENUS_VM_RUN_ID', '%d-%d' % (os.getpid(), time.time()))
    img, lock = ensure_image(build=a.what != 'run' and a.build)
    if a.what == 'image':
        print(img)
        return 0
    if a.what == 'host':
        args = ['host', img, a.cwd] + (['--build'] if a.build else [])
        for host_dir, chroot_dir in a.bind:
            args.append('--bind=%s:%s' % (host_dir, chroot_dir))
        return run_namespace(args + ['--'] + a.cmd, session=False)
    args = ['run', img, payload, '--venus', a.venus, '--timeout', str(a.timeout),
            '--smp', str(a.smp), '--mem', a.mem, '--hostmem', a.hostmem,
            '--frozen-after', str(a.frozen_after)]
    args += ['--kernel-arg=' + k for k in a.kernel_args]
    if a.output:
        args += ['--output', os.path.abspath(a.output)]
    if a.renderer_lib:
        args += ['--renderer-lib', a.renderer_lib]
    if a.qemu_log:
        args += ['--qemu-log', os.path.abspath(a.qemu_log)]
    if a.kill_qemu_on:
        args += ['--kill-qemu-on', a.kill_qemu_on]
    return run_namespace(args, session=True, timeout=a.timeout + 120)


if __name__ == '__main__':
    sys.exit(main())
