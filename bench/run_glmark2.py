#!/usr/bin/env python3
"""OpenGL on Mesa's Zink, natively and through our stack: glmark2's scenes
(Debian 13's glmark2-x11) run alternately on the native Vulkan driver and
through venus-run, each pass the whole benchmark; prints every scene's FPS
(median of the passes), the glmark2 score and the ratios ours / native.

  run_glmark2.py --venus-run PATH [--passes N] [--duration S] [--native-icd JSON]
                 [--no-venus-features]

A third stack runs natively with Zink held to what Venus carries ("native,
Venus's features"): Zink picks its paths by the device's extensions, and two
it prefers on lavapipe, VK_EXT_descriptor_buffer and VK_EXT_shader_object,
have commands that Venus's protocol does not number (docs/renderer.md), so
through any Venus driver Zink falls back to descriptor sets with push
descriptors and to pipelines. ZINK_DESCRIPTORS=lazy and ZINK_DEBUG=noshobj
make it take those paths natively too; the ratio against that run is the
cost of the transport alone. --no-venus-features leaves it out.

Needs an X display ($DISPLAY), for instance a private Xvfb:
  Xvfb :9 -screen 0 1024x768x24 -nolisten tcp &
  DISPLAY=:9 bench/run_glmark2.py --venus-run build/tools/venus-run
Zink is taken through Mesa's software window-system path
(LIBGL_ALWAYS_SOFTWARE=1), which copies each frame into the window on the CPU,
as it must under Xvfb and in a guest.
"""

import os
import sys

import marks


def main():
    ap = marks.arguments(__doc__)
    ap.add_argument('--no-venus-features', action='store_true',
                    help="leave out the native run with Zink held to Venus's features")
    args = ap.parse_args()
    if not os.environ.get('DISPLAY'):
        raise SystemExit('no $DISPLAY (start an Xvfb, see --help)')

    env = dict(os.environ, GALLIUM_DRIVER='zink', LIBGL_ALWAYS_SOFTWARE='1',
               MESA_SHADER_CACHE_DISABLE='true')
    native_env = dict(env, VK_DRIVER_FILES=args.native_icd, VK_ICD_FILENAMES=args.native_icd)
    # Zink natively on the paths it takes through Venus (see above)
    like_env = dict(native_env, ZINK_DESCRIPTORS='lazy',
                    ZINK_DEBUG=','.join(filter(None, [env.get('ZINK_DEBUG'), 'noshobj'])))
    glmark2 = ['glmark2', '-b', ':duration=%g' % args.duration]
    stacks = [('native', glmark2, native_env)]
    if not args.no_venus_features:
        stacks.append(('native-vf', glmark2, like_env))
    stacks.append(('ours', [args.venus_run] + glmark2, env))
    return marks.compare(stacks, args.passes)


if __name__ == '__main__':
    sys.exit(main())
