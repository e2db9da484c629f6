#!/usr/bin/env python3
"""The installation (suite 'install', docs/install.md).

`meson install --destdir ROOT` of this build, then, with nothing of the build
tree in any path the programs see:

1. every part is where an installation needs it: the ICD json in
   <datadir>/vulkan/icd.d naming the installed library by absolute path,
   venus-server, venus-run, the VMM library with its pkg-config file, the
   systemd units, the manual pages, the user docs;
2. no installed file contains the build tree's or the source tree's path;
3. in a private mount namespace, ROOT's prefix is laid over the real prefix
   (overlayfs), so that the installed files sit at their installed paths;
   there the installed venus-server is started through its installed systemd
   units' socket and command line by systemd-socket-activate (the
   sd_listen_fds protocol that systemd uses; by hand when that tool is
   missing), and vulkaninfo and a compute program run with the Vulkan loader
   finding the driver by its default search alone (XDG_DATA_DIRS pointing
   into ROOT, no VK_DRIVER_FILES): the only device is the Venus device; then
   the installed venus-run runs the compute program with its installed paths;
4. every executable answers --version; --help and the manual pages list the
   same options, and every option the programs accept;
5. `man` renders both pages without warnings.

usage: test_install.py BUILD_ROOT SOURCE_ROOT PREFIX BINDIR LIBDIR DATADIR MANDIR
                       VERSION COMPUTE_PROGRAM
Exits 77 (skipped) when no mount namespace with overlayfs can be made.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(cmd, **kw):
    # nothing of the build tree reaches the programs (meson test sets it)
    kw.setdefault("env", {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"})
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 300)
    return subprocess.run(cmd, **kw)


def under(root, path):
    return os.path.join(root, path.lstrip("/"))


def options_in(text):
    """The long and short options named in a help text or manual page."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z]|-[a-zA-Z])(?![\w-])", text))


def man_section(text, name):
    """The body of one section of a rendered manual page."""
    m = re.search(rf"^{name}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.M | re.S)
    if not m:
        fail(f"no {name} section in the manual page")
    return m.group(1)


def check_options(name, help_text, man_text, accepted):
    """--help and the manual page list the same options, and all accepted ones."""
    in_help = options_in(help_text)
    in_man = options_in(man_section(man_text, "OPTIONS"))
    if in_help != in_man:
        fail(f"{name}: --help and the manual page differ: only in --help "
             f"{sorted(in_help - in_man)}, only in the page {sorted(in_man - in_help)}")
    missing = accepted - in_help
    if missing:
        fail(f"{name}: accepted but not documented: {sorted(missing)}")
    print(f"ok - {name}: --help and the manual page list the same "
          f"{len(in_help)} options, all {len(accepted)} accepted ones among them")


def server_accepted_options(source_root):
    """Option names the server's parser compares arguments with."""
    src = open(os.path.join(source_root, "src/server/vtest_main.c")).read()
    return set(re.findall(r'"(--?[a-zA-Z][a-z-]*)"', src))


def run_accepted_options(source_root):
    """Option patterns of venus-run's `case` over its arguments."""
    src = open(os.path.join(source_root, "tools/venus-run.in")).read()
    opts = set()
    for pattern in re.findall(r"^\s*([-|a-zA-Z=*]+)\)", src, re.M):
        for alt in pattern.split("|"):
            alt = alt.split("=")[0]
            if alt.startswith("-") and alt != "--":
                opts.add(alt)
    return opts


def render_man(page):
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    r = run(["man", "--warnings", "-l", page], env=env, stderr=subprocess.PIPE)
    if r.returncode != 0 or r.stderr.strip():
        fail(f"man {page}: status {r.returncode}: {r.stderr.strip()}")
    # plain text: no overstrike from a pager-less man, and no SGR escapes (groff
    # 1.23, Debian 13, emits those where 1.22 overstruck)
    return re.sub(r"\x1b\[[0-9;]*m", "", re.sub(r".\x08", "", r.stdout))


def unit_value(path, key):
    for line in open(path):
        if line.startswith(key + "="):
            return line.split("=", 1)[1].strip()
    fail(f"{path}: no {key}=")


def inner(args):
    """Runs inside the private mount namespace: overlay, then the programs."""
    os.environ.pop("LD_LIBRARY_PATH", None)
    (root, prefix, bindir, libdir, datadir, compute, work) = args
    lower = f"{under(root, prefix)}:{prefix}"
    r = run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lower}", prefix])
    if r.returncode != 0:
        print(f"SKIP: overlayfs over {prefix}: {r.stdout.strip()}")
        return SKIP

    server = os.path.join(bindir, "venus-server")
    run_tool = os.path.join(bindir, "venus-run")
    socket_unit = os.path.join(prefix, "lib/systemd/system/venus-server.socket")
    service_unit = os.path.join(prefix, "lib/systemd/system/venus-server.service")
    for f in (server, run_tool, socket_unit, service_unit):
        if not os.path.exists(f):
            fail(f"{f} is not there after the overlay")

    # the server as the installed units describe it, on a private socket
    # (the units' own path, /tmp/.virgl_test, may be in use on this machine)
    listen = unit_value(socket_unit, "ListenStream")
    exec_start = unit_value(service_unit, "ExecStart").split()
    if listen != "/tmp/.virgl_test" or exec_start[0] != server:
        fail(f"units: ListenStream={listen}, ExecStart={exec_start}")
    sock = os.path.join(work, "venus.sock")
    log = open(os.path.join(work, "server.log"), "w+")
    activate = shutil.which("systemd-socket-activate")
    if activate:
        how = "socket activation (systemd-socket-activate, the installed units' ExecStart)"
        cmd = [activate, "-l", sock, "-E", "VENUS_LOG_LEVEL=info",
               "-E", f"VTEST_SOCKET_NAME={sock}"] + exec_start
    else:
        how = "by hand (no systemd-socket-activate)"
        cmd = exec_start + [f"--socket-path={sock}"]
    # The server's own loader sees the installed Venus driver (the overlay
    # puts its json in the default search path) and, through
    # VTEST_SOCKET_NAME, the server: the driver must refuse to load there
    # instead of connecting back (VENUS_RENDERER_PROCESS)
    env = dict(os.environ, VENUS_LOG_LEVEL="info", VTEST_SOCKET_NAME=sock)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        else:
            fail(f"no socket {sock} after 10 s")

        # the application: the loader's default search, pointed into ROOT only
        app_env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("VK_", "VTEST_", "XDG_", "VENUS_"))}
        app_env.update(XDG_DATA_DIRS=under(root, datadir),
                       XDG_CONFIG_DIRS=os.path.join(work, "no-config"),
                       XDG_DATA_HOME=os.path.join(work, "no-data-home"),
                       XDG_CONFIG_HOME=os.path.join(work, "no-config-home"),
                       VTEST_SOCKET_NAME=sock)
        r = run(["vulkaninfo", "--summary"], env=app_env)
        names = re.findall(r"deviceName\s*=\s*(.*)", r.stdout)
        if r.returncode != 0 or len(names) != 1 or "Venus" not in names[0]:
            fail(f"vulkaninfo through the installed driver: status {r.returncode}, "
                 f"devices {names}\n{r.stdout[-3000:]}")
        print(f"ok - vulkaninfo (default loader search) names one device: {names[0]}; "
              f"server started {how}")
        r = run([compute], env=app_env)
        if r.returncode != 0:
            log.seek(0)
            fail(f"{compute} through the installed driver: {r.returncode}\n{r.stdout}"
                 f"server log:\n{log.read()}")
        print(f"ok - {os.path.basename(compute)} through the installed driver and server")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log.seek(0)
    text = log.read()
    if activate and "listening on the socket passed by systemd" not in text:
        fail(f"the server did not take the passed socket:\n{text}")
    if re.search(r"^\[venus \w+\] .*(fatal|error|refusing)", text, re.M):
        fail(f"server log:\n{text}")
    if text.count("client") > 2 * 2:
        fail(f"more clients than the two programs:\n{text}")

    # the installed venus-run with its installed paths (no VENUS_* overrides)
    r = run([run_tool, compute], env={k: v for k, v in os.environ.items()
                                      if not k.startswith(("VENUS_", "VK_", "VTEST_"))})
    if r.returncode != 0:
        fail(f"installed venus-run {compute}: {r.returncode}\n{r.stdout}")
    print("ok - the installed venus-run runs the compute program with installed paths")
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        sys.exit(inner(sys.argv[2:]))
    (build, source, prefix, bindir, libdir, datadir, mandir, version,
     compute) = sys.argv[1:]
    bindir, libdir, datadir, mandir = (os.path.join(prefix, d)
                                       for d in (bindir, libdir, datadir, mandir))
    compute = os.path.join(build, compute)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="venus-install-") as work:
        root = os.path.join(work, "root")
        r = run(["meson", "install", "-C", build, "--destdir", root, "--no-rebuild",
                 "--quiet"])
        if r.returncode != 0:
            fail(f"meson install: {r.stdout}")

        # 1. the pieces
        icd = under(root, os.path.join(datadir, "vulkan/icd.d",
                                       f"venus_icd.{os.uname().machine}.json"))
        expect = [
            os.path.join(bindir, "venus-server"), os.path.join(bindir, "venus-run"),
            os.path.join(libdir, "venus/libvulkan_venus.so"),
            os.path.join(libdir, "venus/libvirglrenderer.so.1"),
            os.path.join(libdir, "venus/venus-vmm-worker"),
            os.path.join(libdir, "venus/pkgconfig/virglrenderer.pc"),
            os.path.join(prefix, "lib/systemd/system/venus-server.socket"),
            os.path.join(prefix, "lib/systemd/system/venus-server.service"),
            os.path.join(mandir, "man1/venus-server.1"),
            os.path.join(mandir, "man1/venus-run.1"),
            os.path.join(datadir, "doc/venus/README.md"),
            os.path.join(datadir, "doc/venus/install.md"),
        ]
        missing = [p for p in expect if not os.path.exists(under(root, p))]
        if not os.path.exists(icd):
            missing.append(icd)
        if missing:
            fail(f"not installed: {missing}")
        library = json.load(open(icd))["ICD"]["library_path"]
        if library != os.path.join(libdir, "venus/libvulkan_venus.so"):
            fail(f"{icd} names {library}")
        r = run(["pkg-config", "--libs", "--cflags", "virglrenderer"],
                env=dict(os.environ, PKG_CONFIG_SYSROOT_DIR=root,
                         PKG_CONFIG_LIBDIR=under(root, os.path.join(libdir, "venus/pkgconfig"))))
        if r.returncode != 0 or "-lvirglrenderer" not in r.stdout:
            fail(f"pkg-config virglrenderer: {r.stdout}")
        print(f"ok - {len(expect) + 1} installed pieces in place; the ICD json names {library}")

        # 2. no build-tree or source-tree path in any installed file
        trees = {os.path.realpath(build), os.path.realpath(source), build, source}
        leaks = []
        for dirpath, _, files in os.walk(root):
            for f in files:
                path = os.path.join(dirpath, f)
                if os.path.islink(path):
                    target = os.readlink(path)
                    data = target.encode()
                else:
                    data = open(path, "rb").read()
                for t in trees:
                    if t.encode() in data:
                        leaks.append(f"{path[len(root):]} ({t})")
        if leaks:
            fail(f"build or source tree paths in installed files: {leaks}")
        print("ok - no installed file names the build or source tree")

        # 4. --version and the options; 5. the manual pages
        for exe in (os.path.join(bindir, "venus-server"), os.path.join(bindir, "venus-run"),
                    os.path.join(libdir, "venus/venus-vmm-worker")):
            r = run([under(root, exe), "--version"])
            want = f"{os.path.basename(exe)} {version}"
            if r.returncode != 0 or r.stdout.strip() != want:
                fail(f"{exe} --version: {r.returncode} {r.stdout!r}, expected {want!r}")
        print(f"ok - venus-server, venus-run, venus-vmm-worker --version: {version}")
        server_help = run([under(root, os.path.join(bindir, "venus-server")), "--help"])
        run_help = run([under(root, os.path.join(bindir, "venus-run")), "--help"])
        if server_help.returncode or run_help.returncode:
            fail("--help failed")
        check_options("venus-server", server_help.stdout,
                      render_man(under(root, os.path.join(mandir, "man1/venus-server.1"))),
                      server_accepted_options(source))
        check_options("venus-run", run_help.stdout,
                      render_man(under(root, os.path.join(mandir, "man1/venus-run.1"))),
                      run_accepted_options(source))
        print("ok - man renders venus-server(1) and venus-run(1) without warnings")

        # an inherited fd 3 that is no listening socket is refused, not served
        server = under(root, os.path.join(bindir, "venus-server"))
        r = run(["sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --socket-path="$1" 3</dev/null',
                 server, os.path.join(work, "unused.sock")], timeout=30)
        if r.returncode != 1 or "not a listening Unix stream socket" not in r.stdout or \
                os.path.exists(os.path.join(work, "unused.sock")):
            fail(f"venus-server with /dev/null as fd 3 (LISTEN_FDS): {r.returncode} {r.stdout}")
        print("ok - venus-server refuses an inherited fd 3 that is not a listening socket")

        # 3. the installed stack at its installed paths, in a mount namespace
        if not os.path.isdir(prefix):
            print(f"SKIP: the prefix {prefix} does not exist here to overlay")
            sys.exit(SKIP)
        ns = ["unshare", "--mount", "--propagation", "private"]
        if os.getuid() != 0:
            ns = ["unshare", "--map-root-user", "--mount", "--propagation", "private"]
        cmd = ns + [sys.executable, os.path.abspath(__file__), "--inner", root, prefix,
                    bindir, libdir, datadir, compute, work]
        r = subprocess.run(cmd, timeout=600)
        if r.returncode == SKIP or (r.returncode != 0 and os.getuid() != 0 and
                                    run(ns + ["true"]).returncode != 0):
            print("SKIP: no private mount namespace with overlayfs here")
            sys.exit(SKIP)
        if r.returncode != 0:
            sys.exit(r.returncode)
    print(f"PASS ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    main()
