#!/usr/bin/env python3
"""run.py with our stack (--short): both stacks report every metric of the
workloads, and the server's RSS sampler found its worker.

usage: test_run_py.py RUN_PY VKBENCH VENUS_ICD VENUS_SERVER

The sampler follows the server's descendants; a worker it misses leaves
<workload>_server_peak_rss out of the results. A worker holding a Vulkan
instance on lavapipe has tens of MiB resident, so anything under 8 MiB means
the sampler read the wrong process.
"""
import json
import os
import subprocess
import sys
import tempfile

WORKLOADS = ['churn', 'submit']
MIN_WORKER_RSS_KIB = 8 * 1024


def main():
    run_py, vkbench, icd, server = sys.argv[1:5]
    env = dict(os.environ, VENUS_ICD=icd, VENUS_SERVER=server)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'results.json')
        proc = subprocess.run([sys.executable, run_py, '--short', '--workloads',
                               ','.join(WORKLOADS), '--vkbench', vkbench, '--json', out],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=600)
        print(proc.stdout)
        if proc.returncode != 0:
            print('run.py exited with status %d' % proc.returncode)
            return 1
        with open(out) as f:
            results = json.load(f)['results']
    failed = 0
    for workload in WORKLOADS:
        native = results['native'][workload]['metrics']
        ours = results['ours'][workload]['metrics']
        for name in native:
            if name not in ours:
                print('FAIL: ours lacks %s' % name)
                failed += 1
        rss = ours.get('%s_server_peak_rss' % workload)
        if not rss:
            print('FAIL: no %s_server_peak_rss (the sampler missed the worker)' % workload)
            failed += 1
        elif rss['value'] < MIN_WORKER_RSS_KIB:
            print('FAIL: %s_server_peak_rss is %d KiB' % (workload, rss['value']))
            failed += 1
        else:
            print('%s_server_peak_rss %d KiB' % (workload, rss['value']))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
