#!/usr/bin/env python3
"""Runs vulkaninfo natively and through the Venus driver and compares them.

usage: compare_vulkaninfo.py --server ours|virgl --allow ALLOWLIST... [--native-icd JSON]

The Venus run uses the environment as given (tools/venus-run sets
VK_DRIVER_FILES and VTEST_SOCKET_NAME); the native run replaces the ICD with
--native-icd (lavapipe). Checks:
  * plain `vulkaninfo` through the driver exits 0 and prints no error other
    than the allow-listed ones;
  * `vulkaninfo --json` (the device profile: extensions, features, properties
    including limits, formats, queue families) is compared key by key;
    the device name must be "Virtio-GPU Venus (<native name>)".
Every difference must match a line of an allow-list (--allow may be given more
than once), `SERVER KEY # reason`, SERVER being ours, virgl or any and KEY an
fnmatch pattern such as `extension:VK_KHR_swapchain` or
`property:VkPhysicalDeviceDriverProperties.*`. SERVER@PLATFORM (e.g. ours@mesa25)
limits a line to one native driver: mesaN for Mesa N's lavapipe (its driverInfo
"Mesa N.x.y"; on Debian, mesa22 is Debian 12 with virglrenderer 0.10.4, mesa25
Debian 13 with virglrenderer 1.1).
Exits 1 on an unexplained difference, printing all of them.
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ERROR_ALLOW = (
    # vulkaninfo asks for VK_KHR_swapchain on every device; Venus on wire format 0
    # (no guest mapping) has no WSI
    'loader_validate_device_extensions: Device extension VK_KHR_swapchain not supported',
    'vkCreateDevice: Failed to validate extensions in list',
)


def run(cmd, env):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)


def profile(env, tmp, name):
    path = os.path.join(tmp, name + '.json')
    r = run(['vulkaninfo', '--json', '-o', path], env)
    if r.returncode != 0 or not os.path.exists(path):
        sys.stderr.write('%s: vulkaninfo --json failed (%d)\n%s' % (name, r.returncode, r.stderr))
        sys.exit(1)
    with open(path) as f:
        return json.load(f)['capabilities']['device']


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flatten('%s.%s' % (prefix, k) if prefix else k, v, out)
    else:
        out[prefix] = value


def load_allow(paths, server, platform):
    rules = []
    for path in paths:
        with open(path) as f:
            for line in f:
                body, _, reason = line.partition('#')
                fields = body.split()
                if len(fields) != 2:
                    continue
                who, key = fields
                who, _, only = who.partition('@')
                if who in ('any', server) and only in ('', platform):
                    rules.append((key, reason.strip()))
    return rules


def platform_of(profile):
    """mesaN for Mesa N's drivers (driverInfo "Mesa N.x.y ..."), else ''."""
    props = profile.get('properties', {})
    info = ''
    for struct in ('VkPhysicalDeviceDriverProperties', 'VkPhysicalDeviceVulkan12Properties'):
        info = info or props.get(struct, {}).get('driverInfo', '')
    m = re.match(r'Mesa (\d+)\.', info)
    return 'mesa' + m.group(1) if m else ''


def default_native_icd():
    # Debian 12: lvp_icd.x86_64.json, Debian 13: lvp_icd.json
    found = sorted(glob.glob('/usr/share/vulkan/icd.d/lvp_icd*.json'))
    return os.environ.get('NATIVE_ICD') or (found[0] if found else '')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server', choices=('ours', 'virgl'), required=True)
    ap.add_argument('--allow', required=True, action='append')
    ap.add_argument('--native-icd', default=default_native_icd(),
                    help='default: $NATIVE_ICD, else lavapipe\'s json in /usr/share/vulkan/icd.d')
    args = ap.parse_args()

    venus_env = dict(os.environ)
    venus_env.setdefault('XDG_RUNTIME_DIR', tempfile.gettempdir())
    native_env = dict(venus_env)
    native_env['VK_DRIVER_FILES'] = args.native_icd
    native_env['VK_ICD_FILENAMES'] = args.native_icd
    native_env.pop('VTEST_SOCKET_NAME', None)

    problems = []
    # 1. plain vulkaninfo through the driver
    r = run(['vulkaninfo'], venus_env)
    if r.returncode != 0:
        problems.append('vulkaninfo exited with %d' % r.returncode)
    for line in r.stderr.splitlines():
        if ('ERROR' in line or 'error' in line.lower()) and \
                not any(a in line for a in ERROR_ALLOW) and 'XDG_RUNTIME_DIR' not in line:
            problems.append('vulkaninfo stderr: ' + line)
    if 'Virtio-GPU Venus' not in r.stdout:
        problems.append('vulkaninfo does not show the Venus device')

    # 2. the profiles
    with tempfile.TemporaryDirectory() as tmp:
        native = profile(native_env, tmp, 'native')
        venus = profile(venus_env, tmp, 'venus')

    platform = platform_of(native)
    n_name = native['properties']['VkPhysicalDeviceProperties']['deviceName']
    v_name = venus['properties']['VkPhysicalDeviceProperties']['deviceName']
    if v_name != 'Virtio-GPU Venus (%s)' % n_name:
        problems.append('device name %r does not wrap the native %r' % (v_name, n_name))
    native['properties']['VkPhysicalDeviceProperties'].pop('deviceName')
    venus['properties']['VkPhysicalDeviceProperties'].pop('deviceName')

    diffs = []
    n_ext, v_ext = native['extensions'], venus['extensions']
    for e in sorted(set(n_ext) | set(v_ext)):
        if e not in v_ext:
            diffs.append(('extension:' + e, 'missing through Venus'))
        elif e not in n_ext:
            diffs.append(('extension:' + e, 'only through Venus'))
        elif n_ext[e] != v_ext[e]:
            diffs.append(('extension:' + e, 'spec version %s vs %s' % (n_ext[e], v_ext[e])))
    for section, tag in (('properties', 'property'), ('features', 'feature'),
                         ('formats', 'format'), ('queueFamiliesProperties', 'queue')):
        a, b = {}, {}
        flatten('', native.get(section, {}), a)
        flatten('', venus.get(section, {}), b)
        for k in sorted(set(a) | set(b)):
            if k.startswith('VkPhysicalDeviceProperties.limits.'):
                key = 'limit:' + k[len('VkPhysicalDeviceProperties.limits.'):]
            else:
                key = '%s:%s' % (tag, k)
            if k not in b:
                diffs.append((key, 'missing through Venus'))
            elif k not in a:
                diffs.append((key, 'only through Venus'))
            elif a[k] != b[k]:
                diffs.append((key, 'native %r, Venus %r' % (a[k], b[k])))

    rules = load_allow(args.allow, args.server, platform)
    explained = 0
    used = set()
    lines = []
    for key, what in diffs:
        rule = next((r for r in rules if fnmatch.fnmatchcase(key, r[0])), None)
        if rule:
            explained += 1
            used.add(rule[0])
            lines.append('  explained: %s (%s): %s' % (key, what, rule[1]))
        else:
            problems.append('unexplained difference: %s (%s)' % (key, what))

    print('vulkaninfo (%s server, native %s): %d differences, %d explained by the allow-list'
          % (args.server, platform or 'driver', len(diffs), explained))
    for line in lines:
        print(line)
    for key, reason in rules:
        if key not in used:
            print('  allow-list rule that matched nothing here: %s' % key)
    for p in problems:
        print('  ' + p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
