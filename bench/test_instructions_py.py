#!/usr/bin/env python3
"""instructions.py on churn through this build: it finds what it counts, and
the counts per iteration are of the size a create + requirements + destroy
costs (bench/README.md, "Counting instructions"). Skipped (77) without
valgrind.

usage: test_instructions_py.py INSTRUCTIONS_PY BUILD_DIR
"""
import re
import shutil
import subprocess
import sys

# instructions per create + requirements + destroy: release and
# debugoptimized builds on lavapipe count about 900 (application) and 2,100
# (ring thread, lavapipe's calls included); the bounds only catch a count
# cut out of the wrong place (set-up, waits) or not at all
APP_RANGE = (200, 5000)
RING_RANGE = (400, 20000)


def main():
    tool, build = sys.argv[1:3]
    if not shutil.which('valgrind'):
        print('valgrind is not installed: skipped')
        return 77
    proc = subprocess.run([sys.executable, tool, '--build', build, '--workload', 'churn'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=600)
    print(proc.stdout)
    if proc.returncode:
        print('instructions.py failed (%d)' % proc.returncode)
        return 1
    app = re.findall(r'application\s+\d+\s+([\d.]+)', proc.stdout)
    rings = re.findall(r'ring thread \d+\s+\d+\s+([\d.]+)', proc.stdout)
    ok = len(app) == 1 and len(rings) == 1
    if ok:
        a, r = float(app[0]), float(rings[0])
        ok = APP_RANGE[0] <= a <= APP_RANGE[1] and RING_RANGE[0] <= r <= RING_RANGE[1]
    print('per iteration: application %s, ring thread %s: %s' %
          (app, rings, 'ok' if ok else 'out of range'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
