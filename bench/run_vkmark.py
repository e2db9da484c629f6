#!/usr/bin/env python3
"""A Vulkan application's frame loop, natively and through our stack:
vkmark's scenes (Debian 13's vkmark) run alternately on the native Vulkan
driver and through venus-run, each pass the whole benchmark; prints every
scene's FPS (median of the passes), the vkmark score and the ratio ours /
native.

  run_vkmark.py --venus-run PATH [--passes N] [--duration S] [--native-icd JSON]
                [--winsys headless|xcb|wayland]

The default window system, headless, renders each frame into an image of
vkmark's own and presents nothing, so the figures are the cost of the
rendering and its synchronisation alone; xcb (needs $DISPLAY, for instance a
private Xvfb) adds presentation, which is our driver's own window-system code
against the native driver's. Exit status 1 when a scene that ran natively did
not run through our stack.
"""

import os
import sys

import marks


def main():
    ap = marks.arguments(__doc__)
    ap.add_argument('--winsys', default='headless', choices=('headless', 'xcb', 'wayland'))
    args = ap.parse_args()
    if args.winsys == 'xcb' and not os.environ.get('DISPLAY'):
        raise SystemExit('no $DISPLAY (start an Xvfb) for --winsys xcb')

    env = dict(os.environ)
    native_env = dict(env, VK_DRIVER_FILES=args.native_icd, VK_ICD_FILENAMES=args.native_icd)
    vkmark = ['vkmark', '--winsys', args.winsys, '-b', ':duration=%g' % args.duration]
    stacks = [('native', vkmark, native_env), ('ours', [args.venus_run] + vkmark, env)]
    return marks.compare(stacks, args.passes)


if __name__ == '__main__':
    sys.exit(main())
