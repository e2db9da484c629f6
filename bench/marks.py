"""Shared by run_glmark2.py and run_vkmark.py: runs a *mark benchmark (its
scenes print "[scene] options: FPS: N FrameTime: ...", its end "... Score: N")
on several stacks in turn, pass after pass, and prints every scene's median
FPS per stack with the ratios of ours against the others."""

import argparse
import glob
import os
import re
import statistics
import subprocess
import sys

SCENE = re.compile(r'^(\[.*?\] .*?): FPS: (\d+)')
SCORE = re.compile(r'(?:glmark2|vkmark) Score: (\d+)')
DEVICE = re.compile(r'(?:GL_RENDERER|Device Name):\s*(.*)')


def arguments(doc):
    """The options both scripts take: --venus-run, --passes, --duration,
    --native-icd; the caller adds its own and parses."""
    ap = argparse.ArgumentParser(description=doc.split('\n')[0])
    ap.add_argument('--venus-run', required=True)
    ap.add_argument('--passes', type=int, default=2)
    ap.add_argument('--duration', type=float, default=2.0, help='seconds per scene')
    ap.add_argument('--native-icd', default=os.environ.get('NATIVE_ICD') or next(
        iter(sorted(glob.glob('/usr/share/vulkan/icd.d/lvp_icd*.json'))), ''))
    return ap


def run(cmd, env):
    """FPS per scene (and 'score') of one run, and the device it named."""
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=3600)
    out = p.stdout.decode(errors='replace')
    if p.returncode != 0:
        sys.stderr.write(out[-2000:])
        raise SystemExit('%s failed (%d)' % (' '.join(cmd), p.returncode))
    fps = {}
    for line in out.splitlines():
        m = SCENE.match(line.strip())
        if m:
            fps[m.group(1)] = int(m.group(2))
        m = SCORE.search(line)
        if m:
            fps['score'] = int(m.group(1))
    device = DEVICE.search(out)
    return fps, device.group(1).strip() if device else '?'


def compare(stacks, passes):
    """stacks: (name, cmd, env) with 'ours' last; runs them in turn, passes
    times, then prints the table. Returns 0, or 1 when a run of ours is
    missing a scene that the first stack ran."""
    runs = {name: [] for name, _, _ in stacks}
    for i in range(passes):
        for name, cmd, env in stacks:
            fps, device = run(cmd, env)
            print('pass %d %s: score %s (%s)' % (i + 1, name, fps.get('score', '?'), device),
                  flush=True)
            runs[name].append(fps)

    def median(name, scene):
        return statistics.median(r.get(scene, 0) for r in runs[name])

    others = [name for name, _, _ in stacks[:-1]]
    print('%-64s %s %9s %s' % ('scene (FPS, median of %d passes)' % passes,
                               ' '.join('%9s' % n for n in others), 'ours',
                               ' '.join('%9s' % ('/' + n) for n in others)))
    missing = 0
    for scene in runs[others[0]][0]:
        ours = median('ours', scene)
        missing += not ours
        theirs = [median(n, scene) for n in others]
        print('%-64s %s %9g %s' % (scene[:64], ' '.join('%9g' % t for t in theirs), ours,
                                   ' '.join('%9.2f' % (ours / t if t else 0) for t in theirs)))
    return 1 if missing else 0
