#!/usr/bin/env python3
"""Present-loop benchmark (bench_present.c): frames per second at 1920x1080
natively (the host driver's own X11 WSI, lavapipe by default) and through our
stack (tools/venus-run: driver + venus-server), both in one private Xvfb
(started here through tests/wsi/run_wsi.py's Xvfb, always stopped), and the
ratio ours/native.

usage: run_present.py --bench-present PATH --venus-run PATH
                      [--frames N] [--mode immediate|mailbox|fifo] [--no-native]
--no-native: only our stack (hosts whose driver cannot present to Xvfb,
e.g. NVIDIA).
"""

import argparse
import glob
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'wsi'))
import run_wsi  # noqa: E402

# lavapipe's json: lvp_icd.x86_64.json on Debian 12, lvp_icd.json on Debian 13
NATIVE_ICD = os.environ.get('NATIVE_ICD') or next(
    iter(sorted(glob.glob('/usr/share/vulkan/icd.d/lvp_icd*.json'))), '')


def fps(cmd, env):
    full = dict(os.environ)
    full.update(env)
    out = subprocess.run(cmd, env=full, stdout=subprocess.PIPE, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError('%s failed (%d)' % (' '.join(cmd), out.returncode))
    m = re.search(r'^(\S+) fps (\S+)$', out.stdout, re.M)
    return m.group(1), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bench-present', required=True)
    ap.add_argument('--venus-run', required=True)
    ap.add_argument('--frames', type=int, default=300)
    ap.add_argument('--mode', default='immediate')
    ap.add_argument('--no-native', action='store_true')
    args = ap.parse_args()
    cmd = [args.bench_present, '--frames', str(args.frames), '--mode', args.mode]
    with run_wsi.Xvfb('1920x1080x24') as x:
        env = x.env()
        native = None
        if not args.no_native:
            name, native = fps(cmd, dict(env, VK_DRIVER_FILES=NATIVE_ICD,
                                         VK_ICD_FILENAMES=NATIVE_ICD))
        name, ours = fps([args.venus_run] + cmd, env)
    print('%-32s %12s %12s %10s' % ('metric', 'native', 'ours', 'ours/native'))
    print('%-32s %12s %12.1f %10s' % (name + ' (fps)', '%.1f' % native if native else '-', ours,
                                     '%.3f' % (ours / native) if native else '-'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
