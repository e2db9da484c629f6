#!/usr/bin/env python3
"""Counts the instructions one vkbench workload costs through our stack, with
valgrind's callgrind: the application's workload function (the driver's side:
encoding, ring, entry points) and each renderer ring thread (decoding, object
table, host calls). Instruction counts do not change from run to run, so they
show a change to the per-command path where timings on a shared machine
cannot (bench/README.md, "Counting instructions").

   bench/instructions.py [--build DIR] [--compare DIR] [--workload NAME] [--keep DIR]

DIR is a build directory (default: build-rel): its src/server/venus-server,
bench/vkbench and src/driver/venus_icd.json are used. vkbench runs with
--short; the server runs with VENUS_SANDBOX=0 (valgrind cannot follow the
worker's seccomp filter). Where the workload's iteration count is known
(churn: 4,000 create + requirements + destroy), figures per iteration are
printed too, for the application and for the ring thread that carried the
workload (another ring thread of the device does its set-up, such as
vkCreateDevice). Needs valgrind (apt-get install valgrind). Nothing here is a
test: it prints figures.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

# vkbench --short: iterations of the workload's measured loop, warm-up
# included, and a renderer function that only the workload's ring calls
ITERATIONS = {'churn': (4000, 'vkr_dispatch_vkDestroyBuffer')}
SERVER_START_TIMEOUT_S = 60.0


def callgrind_total(path):
    with open(path, errors='replace') as f:
        for line in f:
            if line.startswith('totals:') or line.startswith('summary:'):
                return int(line.split()[1])
    return None


def file_has(path, needle):
    with open(path, errors='replace') as f:
        return any(needle in line for line in f)


def count(build, workload, marker, out_dir):
    server = os.path.join(build, 'src/server/venus-server')
    vkbench = os.path.join(build, 'bench/vkbench')
    icd = os.path.join(build, 'src/driver/venus_icd.json')
    for path in (server, vkbench, icd):
        if not os.path.exists(path):
            sys.exit('instructions.py: %s is missing (build %s first)' % (path, build))
    socket_path = os.path.join(out_dir, 'vtest.sock')
    server_env = dict(os.environ, VENUS_SANDBOX='0', VTEST_SOCKET_NAME=socket_path)
    app_env = dict(server_env, VK_DRIVER_FILES=icd, VK_ICD_FILENAMES=icd)
    valgrind = ['valgrind', '--tool=callgrind', '--separate-threads=yes']
    server_log = open(os.path.join(out_dir, 'server.log'), 'w')
    # the renderer: only while it decodes and runs commands (not its idle
    # loop between batches)
    srv = subprocess.Popen(valgrind + ['--toggle-collect=vkr_decoder_run',
                                       '--callgrind-out-file=' + os.path.join(out_dir, 'server.%p'),
                                       server, '--socket-path=' + socket_path],
                           env=server_env, stdout=server_log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not os.path.exists(socket_path):
            if srv.poll() is not None or time.monotonic() > deadline:
                sys.exit('instructions.py: the server did not start (%s)' % server_log.name)
            time.sleep(0.1)
        # the application: only inside the workload, and not while the
        # driver waits for room in a full ring (it spins and yields for as
        # long as the renderer takes)
        app = subprocess.run(
            valgrind + ['--toggle-collect=bench_run_' + workload,
                        '--toggle-collect=vn_ring_wait_space_slow_locked',
                        '--callgrind-out-file=' + os.path.join(out_dir, 'app.%p'),
                        vkbench, '--short', '--workload', workload],
            env=app_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if app.returncode:
            sys.exit('instructions.py: vkbench failed:\n' + app.stdout[-4000:])
    finally:
        srv.terminate()
        srv.wait()
        server_log.close()

    app_ir = sum(callgrind_total(p) or 0 for p in glob.glob(os.path.join(out_dir, 'app.*-*')))
    rings = []
    for path in sorted(glob.glob(os.path.join(out_dir, 'server.*-*'))):
        if file_has(path, 'vkr_ring_progress'):
            rings.append((callgrind_total(path) or 0, bool(marker) and file_has(path, marker)))
    # the functions named above are how the counts are cut out: a rename
    # would leave them empty rather than wrong
    if not app_ir:
        sys.exit('instructions.py: nothing counted inside bench_run_%s (%s)' % (workload, build))
    if not rings or (marker and not any(workload_ring for _, workload_ring in rings)):
        sys.exit('instructions.py: no ring thread of the workload found (%s)' % build)
    return app_ir, rings


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--build', default='build-rel')
    parser.add_argument('--compare', help='a second build directory, counted the same way')
    parser.add_argument('--workload', default='churn')
    parser.add_argument('--keep', help='leave the callgrind files in this directory')
    args = parser.parse_args()
    if not shutil.which('valgrind'):
        sys.exit('instructions.py: valgrind is not installed (apt-get install valgrind)')

    iterations, marker = ITERATIONS.get(args.workload, (None, None))
    builds = [args.build] + ([args.compare] if args.compare else [])
    results = []
    for i, build in enumerate(builds):
        if args.keep:
            out_dir = os.path.join(args.keep, 'build%d' % i)
            os.makedirs(out_dir, exist_ok=True)
            for old in glob.glob(os.path.join(out_dir, '*')):
                os.remove(old)
        else:
            out_dir = tempfile.mkdtemp(prefix='venus-instr-')
        try:
            results.append(count(build, args.workload, marker, out_dir))
        finally:
            if not args.keep:
                shutil.rmtree(out_dir, ignore_errors=True)

    def per(n, applies=True):
        return '%12.1f' % (n / iterations) if iterations and applies else ''

    print('%-24s %-16s %14s %12s' % ('build', 'thread', 'instructions',
                                     'per iteration' if iterations else ''))
    for build, (app_ir, rings) in zip(builds, results):
        print('%-24s %-16s %14d %s' % (build, 'application', app_ir, per(app_ir)))
        for r, (ring_ir, workload_ring) in enumerate(rings):
            print('%-24s %-16s %14d %s' % (build, 'ring thread %d' % r, ring_ir,
                                           per(ring_ir, workload_ring)))
    if len(results) == 2:
        (a_app, a_rings), (b_app, b_rings) = results
        a_ring = sum(n for n, _ in a_rings)
        b_ring = sum(n for n, _ in b_rings)
        print('%s / %s: application %.3f, ring threads %.3f' %
              (args.build, args.compare, a_app / b_app if b_app else float('nan'),
               a_ring / b_ring if b_ring else float('nan')))
    return 0


if __name__ == '__main__':
    sys.exit(main())
