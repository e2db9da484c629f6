#!/usr/bin/env python3
"""Runs every vkbench workload natively and through the remoting stacks that are
configured, and prints absolute figures and ratios to native.

Stacks:
  native  always: VK_DRIVER_FILES = NATIVE_ICD (default: lavapipe's json)
  ours    when VENUS_ICD (our ICD json) and VENUS_SERVER (server executable) are
          set; optional VENUS_SERVER_ARGS and VENUS_ENV
  other   when OTHER_ICD and OTHER_SERVER are set (e.g. Mesa's Venus driver with
          virglrenderer's virgl_test_server); optional OTHER_SERVER_ARGS and
          OTHER_ENV

For a server stack the runner starts the server itself, with the environment
variable VTEST_SOCKET_NAME pointing at a socket in a fresh temporary directory
(also given to the clients); "{socket}" in *_SERVER_ARGS is replaced by that
path. *_ENV holds extra KEY=VALUE words for server and clients (shell quoting),
e.g. OTHER_ENV="VN_DEBUG=vtest". While a workload runs, the server's descendant
processes are sampled every 20 ms and the peak VmHWM among them is reported as
<workload>_server_peak_rss.

Each workload runs in its own process. With --passes N every stack runs every
workload N times, the order of the stacks reversed at every other pass (native,
ours, other; other, ours, native; ...), and the table shows each metric's median
over the passes with its lowest and highest value; the JSON file keeps every
pass. The exit status is non-zero if any
workload's own result check failed (or it crashed, timed out or printed nothing),
or a server could not be started. The issue-5 targets are shown for "ours" but do
not affect the exit status.
"""

import argparse
import glob
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

# lavapipe's json: lvp_icd.x86_64.json on Debian 12, lvp_icd.json on Debian 13
DEFAULT_NATIVE_ICD = next(
    iter(sorted(glob.glob('/usr/share/vulkan/icd.d/lvp_icd*.json'))), '')
SERVER_START_TIMEOUT_S = 15.0
SERVER_STOP_TIMEOUT_S = 5.0
RSS_SAMPLE_PERIOD_S = 0.02

# Issue 5 targets for "ours": metric -> (kind, limit, limit on lavapipe).
# min_ratio/max_ratio compare with native; max_abs is an absolute bound.
TARGETS = {
    'compute_fma': ('min_ratio', 0.99, 0.95),
    'coopmat_matmul': ('min_ratio', 0.95, 0.95),  # issue 14 (H200)
    'frame_loop': ('min_ratio', 0.99, 0.95),
    'frame_loop_timestamps': ('min_ratio', 0.99, 0.95),
    'frame_loop_timeline': ('min_ratio', 0.99, 0.95),
    'mapping_write': ('min_ratio', 0.95, 0.95),
    'mapping_read': ('min_ratio', 0.95, 0.95),
    'staging_upload': ('min_ratio', 0.98, 0.98),
    'commands_dispatch_record': ('max_ratio', 1.10, 1.10),
    'commands_dispatch_execute': ('max_ratio', 1.10, 1.10),
    'commands_draw_record': ('max_ratio', 1.10, 1.10),
    'commands_draw_execute': ('max_ratio', 1.10, 1.10),
    'submit_empty_wait': ('max_ratio', 1.10, 1.10),
    'churn_create_reqs_destroy': ('max_ratio', 2.0, 2.0),
    'roundtrip_calibrated_ts': ('max_abs', 0.9, 0.9),
    'roundtrip_pipeline_cache_size': ('max_abs', 0.9, 0.9),
}


class StackError(Exception):
    pass


class Stack:
    """One way of running the programs: an ICD json, maybe with a server."""

    def __init__(self, name, icd, server=None, server_args='', extra_env=''):
        self.name = name
        self.icd = icd
        self.server = server
        self.server_args = shlex.split(server_args or '')
        self.extra_env = parse_env_words(extra_env or '', name)


def parse_env_words(text, what):
    env = {}
    for word in shlex.split(text):
        key, sep, value = word.partition('=')
        if not sep or not key:
            raise SystemExit('%s: "%s" is not KEY=VALUE' % (what, word))
        env[key] = value
    return env


def read_proc_children():
    """Maps each pid to its parent pid, from /proc/<pid>/stat."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(')') + 2:].split()
        if len(fields) > 1:
            parents[int(entry)] = int(fields[1])
    return parents


def read_task_children(pid):
    """The children of pid from /proc/<pid>/task/<tid>/children (one small
    file per thread), or None where the kernel has no such files."""
    try:
        tids = os.listdir('/proc/%d/task' % pid)
    except OSError:
        return set()
    children = set()
    for tid in tids:
        try:
            with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                children.update(int(c) for c in f.read().split())
        except FileNotFoundError:
            if not os.path.exists('/proc/%d/task/%s' % (pid, tid)):
                continue  # the thread ended
            return None
        except (OSError, ValueError):
            continue
    return children


def read_vm_hwm_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class RssMonitor(threading.Thread):
    """Samples the peak RSS (VmHWM) of a server's descendants. VmHWM only grows,
    so a sample just before a worker exits is enough; growth in the last
    sampling period before the exit is missed."""

    def __init__(self, root_pid):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.window_peak = 0
        self.root_peak = 0

    def descendants(self):
        # Walking the children files reads a few files per sample; scanning
        # every process of /proc each 20 ms took enough CPU on a 2-core
        # machine to slow lavapipe's frame loop through our stack by a tenth
        # (the sampler runs only for server stacks).
        found, frontier = set(), [self.root_pid]
        while frontier:
            children = read_task_children(frontier.pop())
            if children is None:
                return self.descendants_by_scan()
            children -= found
            found |= children
            frontier.extend(children)
        return found

    def descendants_by_scan(self):
        parents = read_proc_children()
        found, frontier = set(), {self.root_pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items()
                        if ppid in frontier and pid not in found}
            found |= frontier
        return found

    def sample(self):
        peak = 0
        for pid in self.descendants():
            hwm = read_vm_hwm_kib(pid)
            if hwm:
                peak = max(peak, hwm)
        root = read_vm_hwm_kib(self.root_pid) or 0
        with self.lock:
            self.window_peak = max(self.window_peak, peak)
            self.root_peak = max(self.root_peak, root)

    def run(self):
        while not self.stopping.wait(RSS_SAMPLE_PERIOD_S):
            self.sample()

    def begin_window(self):
        with self.lock:
            self.window_peak = 0

    def end_window(self):
        self.sample()
        with self.lock:
            return self.window_peak

    def stop(self):
        self.stopping.set()
        self.join()


class Server:
    """A vtest server on a private socket, started and stopped by the runner."""

    def __init__(self, stack):
        self.stack = stack
        self.tmpdir = tempfile.mkdtemp(prefix='vkbench-%s-' % stack.name)
        self.socket = os.path.join(self.tmpdir, 'vtest.sock')
        self.log_path = os.path.join(self.tmpdir, 'server.log')
        self.proc = None
        self.monitor = None

    def env(self):
        env = dict(os.environ)
        env.update(self.stack.extra_env)
        env['VTEST_SOCKET_NAME'] = self.socket
        return env

    def start(self):
        argv = [self.stack.server] + [a.replace('{socket}', self.socket)
                                      for a in self.stack.server_args]
        log = open(self.log_path, 'w')
        try:
            # its own session, so that stop() can end the server and its workers
            self.proc = subprocess.Popen(argv, env=self.env(), stdout=log,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        except OSError as e:
            raise StackError('cannot start %s: %s' % (argv[0], e))
        finally:
            log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise StackError('server exited with status %d before creating %s:\n%s'
                                 % (self.proc.returncode, self.socket, self.log_tail()))
            if time.monotonic() > deadline:
                self.stop()
                raise StackError('server did not create %s within %.0f s:\n%s'
                                 % (self.socket, SERVER_START_TIMEOUT_S,
                                    self.log_tail()))
            time.sleep(0.05)
        self.monitor = RssMonitor(self.proc.pid)
        self.monitor.start()

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return ''

    def stop(self):
        if self.monitor:
            self.monitor.stop()
            self.monitor = None
        if self.proc and self.proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(SERVER_STOP_TIMEOUT_S)
                    break
                except subprocess.TimeoutExpired:
                    continue
        # workers left in the server's process group
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for path in (self.socket, self.log_path):
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(self.tmpdir)
        except OSError:
            pass


class Result:
    def __init__(self):
        self.metrics = {}  # name -> (unit, value)
        self.failure = None
        self.device = None
        self.spread = {}  # name -> (lowest, highest) over the passes


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def merge_passes(passes):
    """One Result per workload from a stack's passes ([{workload: Result}]): each
    metric's median over the passes that reported it, and its spread."""
    merged = {}
    for workload in dict.fromkeys(w for p in passes for w in p):
        runs = [p[workload] for p in passes if workload in p]
        result = Result()
        result.failure = next((r.failure for r in runs if r.failure), None)
        result.device = next((r.device for r in runs if r.device), None)
        for name in dict.fromkeys(n for r in runs for n in r.metrics):
            values = [r.metrics[name][1] for r in runs if name in r.metrics]
            unit = next(r.metrics[name][0] for r in runs if name in r.metrics)
            result.metrics[name] = (unit, median(values))
            result.spread[name] = (min(values), max(values))
        merged[workload] = result
    return merged


def parse_metrics(stdout):
    metrics = {}
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) != 3:
            continue
        try:
            metrics[fields[0]] = (fields[1], float(fields[2]))
        except ValueError:
            continue
    return metrics


def run_workload(vkbench, workload, args, env):
    cmd = [vkbench, '--workload', workload] + (['--short'] if args.short else [])
    result = Result()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=args.timeout)
    except subprocess.TimeoutExpired:
        result.failure = 'timed out after %d s' % args.timeout
        return result
    result.metrics = parse_metrics(proc.stdout)
    match = re.search(r'device "([^"]*)"', proc.stderr)
    result.device = match.group(1) if match else None
    if proc.returncode != 0:
        tail = '\n'.join(proc.stderr.strip().splitlines()[-8:])
        result.failure = 'exit status %d\n%s' % (proc.returncode, tail)
    elif not result.metrics:
        result.failure = 'printed no results'
    if args.verbose:
        sys.stderr.write(proc.stderr)
    return result


def list_workloads(vkbench, env):
    try:
        out = subprocess.run([vkbench, '--list'], env=env, stdout=subprocess.PIPE,
                             universal_newlines=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise SystemExit('cannot list workloads with %s: %s' % (vkbench, e))
    return out.split()


def run_stack(stack, vkbench, workloads, args):
    """Returns {workload: Result}; raises StackError if the server fails."""
    env = dict(os.environ)
    env.update(stack.extra_env)
    env['VK_DRIVER_FILES'] = stack.icd
    env['VK_ICD_FILENAMES'] = stack.icd
    server = None
    if stack.server:
        server = Server(stack)
        try:
            server.start()
        except StackError:
            server.stop()
            raise
        env['VTEST_SOCKET_NAME'] = server.socket
    results = {}
    try:
        for workload in workloads:
            print('  %s: %s ...' % (stack.name, workload), file=sys.stderr, flush=True)
            if server:
                server.monitor.begin_window()
            result = run_workload(vkbench, workload, args, env)
            if server:
                peak = server.monitor.end_window()
                if peak:
                    result.metrics['%s_server_peak_rss' % workload] = ('KiB', float(peak))
                if server.proc.poll() is not None:
                    result.failure = (result.failure or '') + \
                        '\nserver exited with status %d:\n%s' % (server.proc.returncode,
                                                                 server.log_tail())
            results[workload] = result
            if result.failure:
                print('  %s: %s FAILED: %s' % (stack.name, workload, result.failure),
                      file=sys.stderr, flush=True)
            if server and server.proc.poll() is not None:
                raise StackError('server died during %s' % workload)
    finally:
        if server:
            server.stop()
    return results


def target_status(metric, native, ours, on_lavapipe):
    target = TARGETS.get(metric)
    if not target or ours is None:
        return ''
    kind, limit, lavapipe_limit = target
    limit = lavapipe_limit if on_lavapipe else limit
    if kind == 'max_abs':
        return ('ok' if ours <= limit else 'MISS') + ' <=%g' % limit
    if not native:
        return ''
    ratio = ours / native
    if kind == 'min_ratio':
        return ('ok' if ratio >= limit else 'MISS') + ' >=%gx' % limit
    return ('ok' if ratio <= limit else 'MISS') + ' <=%gx' % limit


def fmt(value):
    if value is None:
        return '-'
    if value == 0 or abs(value) >= 1000:
        return '%.0f' % value
    return '%.4g' % value


def print_table(stacks, results, workloads, on_lavapipe, failed_stacks, passes):
    metrics = []  # (workload, name, unit) in first-seen order
    seen = set()
    for workload in workloads:
        for stack in stacks:
            result = results.get(stack.name, {}).get(workload)
            if not result:
                continue
            for name, (unit, _) in result.metrics.items():
                if name not in seen:
                    seen.add(name)
                    metrics.append((workload, name, unit))

    header = ['metric', 'unit']
    for stack in stacks:
        header.append(stack.name)
        if passes > 1:
            header.append('%s range' % stack.name)
        if stack.name != 'native':
            header.append('%s/native' % stack.name)
        if stack.name == 'ours':
            header.append('target')
    rows = [header]
    for workload, name, unit in metrics:
        def value(stack_name):
            result = results.get(stack_name, {}).get(workload)
            if not result:
                return None
            if name in result.metrics:
                return result.metrics[name][1]
            return None

        native = value('native')
        row = [name, unit]
        for stack in stacks:
            v = value(stack.name)
            result = results.get(stack.name, {}).get(workload)
            failed = stack.name in failed_stacks or (result and result.failure)
            row.append('FAILED' if failed and v is None else fmt(v))
            if passes > 1:
                spread = result.spread.get(name) if result else None
                row.append('%s-%s' % (fmt(spread[0]), fmt(spread[1])) if spread else '-')
            if stack.name != 'native':
                row.append('%.3f' % (v / native) if v is not None and native else '-')
            if stack.name == 'ours':
                row.append(target_status(name, native, v, on_lavapipe))
        rows.append(row)

    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [c.rjust(w) for c, w in zip(row[2:], widths[2:])]
        print('  '.join(cells).rstrip())
        if i == 0:
            print('  '.join('-' * w for w in widths))


def find_vkbench():
    env = os.environ.get('VKBENCH')
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = [p for p in glob.glob(os.path.join(root, 'build*', 'bench', 'vkbench'))
             if os.access(p, os.X_OK)]
    if not found:
        raise SystemExit('vkbench not found: build it (meson) and pass --vkbench PATH')
    return max(found, key=os.path.getmtime)


def configured_stacks(native_icd):
    stacks = [Stack('native', native_icd)]
    env = os.environ
    if env.get('VENUS_ICD') and env.get('VENUS_SERVER'):
        stacks.append(Stack('ours', env['VENUS_ICD'], env['VENUS_SERVER'],
                            env.get('VENUS_SERVER_ARGS', ''), env.get('VENUS_ENV', '')))
    elif env.get('VENUS_ICD') or env.get('VENUS_SERVER'):
        print('note: "ours" needs both VENUS_ICD and VENUS_SERVER; skipped',
              file=sys.stderr)
    if env.get('OTHER_ICD') and env.get('OTHER_SERVER'):
        stacks.append(Stack('other', env['OTHER_ICD'], env['OTHER_SERVER'],
                            env.get('OTHER_SERVER_ARGS', ''), env.get('OTHER_ENV', '')))
    elif env.get('OTHER_ICD') or env.get('OTHER_SERVER'):
        print('note: "other" needs both OTHER_ICD and OTHER_SERVER; skipped',
              file=sys.stderr)
    for stack in stacks:
        if not os.path.isfile(stack.icd):
            raise SystemExit('%s: ICD json %s does not exist' % (stack.name, stack.icd))
        if stack.server and not os.access(stack.server, os.X_OK):
            raise SystemExit('%s: server %s is not executable'
                             % (stack.name, stack.server))
    return stacks


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--vkbench', help='vkbench executable (default: $VKBENCH, '
                        'else the newest build*/bench/vkbench)')
    parser.add_argument('--short', action='store_true', help='brief runs (smoke test)')
    parser.add_argument('--workloads', help='comma-separated subset (default: all)')
    parser.add_argument('--timeout', type=int, default=600,
                        help='seconds per workload run (default 600)')
    parser.add_argument('--json', help='also write all results to this file')
    parser.add_argument('--verbose', action='store_true', help='show vkbench stderr')
    parser.add_argument('--passes', type=int, default=1,
                        help='run every stack N times, alternating their order, and '
                        'report medians (default 1)')
    args = parser.parse_args()

    vkbench = os.path.abspath(args.vkbench or find_vkbench())
    native_icd = os.environ.get('NATIVE_ICD', DEFAULT_NATIVE_ICD)
    stacks = configured_stacks(native_icd)
    list_env = dict(os.environ, VK_DRIVER_FILES=native_icd, VK_ICD_FILENAMES=native_icd)
    workloads = list_workloads(vkbench, list_env)
    if args.workloads:
        wanted = args.workloads.split(',')
        unknown = [w for w in wanted if w not in workloads]
        if unknown:
            raise SystemExit('unknown workload(s): %s' % ', '.join(unknown))
        workloads = wanted

    if args.passes < 1:
        raise SystemExit('--passes must be at least 1')
    runs = {stack.name: [] for stack in stacks}
    failures = []
    failed_stacks = set()
    devices = {}
    for index in range(args.passes):
        order = stacks if index % 2 == 0 else list(reversed(stacks))
        for stack in order:
            if stack.name in failed_stacks:
                continue
            print('%s%s: %s%s' % ('pass %d, ' % (index + 1) if args.passes > 1 else '',
                                  stack.name, stack.icd,
                                  ' + %s' % stack.server if stack.server else ''),
                  file=sys.stderr, flush=True)
            try:
                runs[stack.name].append(run_stack(stack, vkbench, workloads, args))
            except StackError as e:
                failed_stacks.add(stack.name)
                failures.append('%s: %s' % (stack.name, str(e).strip()))
                print('%s: %s' % (stack.name, e), file=sys.stderr, flush=True)
                continue
            for workload, result in runs[stack.name][-1].items():
                if result.failure:
                    failures.append('%s/%s: %s' % (stack.name, workload,
                                                   result.failure.splitlines()[0]))
                if result.device:
                    devices[stack.name] = result.device
    results = {name: merge_passes(passes) for name, passes in runs.items() if passes}

    print('vkbench%s: %s' % (' --short' if args.short else '', vkbench))
    for stack in stacks:
        print('  %-6s %s (%s)' % (stack.name, devices.get(stack.name, '?'), stack.icd))
    print()
    on_lavapipe = 'llvmpipe' in devices.get('native', '')
    print_table(stacks, results, workloads, on_lavapipe, failed_stacks, args.passes)

    if args.json:
        data = {
            'vkbench': vkbench,
            'short': args.short,
            'passes': args.passes,
            'devices': devices,
            'stacks': {s.name: {'icd': s.icd, 'server': s.server} for s in stacks},
            'results': {
                stack: {w: {'failure': r.failure,
                            'metrics': {k: {'unit': u, 'value': v}
                                        for k, (u, v) in r.metrics.items()}}
                        for w, r in res.items()}
                for stack, res in results.items()},
            'runs': {
                stack: [{w: {k: v for k, (u, v) in r.metrics.items()}
                         for w, r in one.items()} for one in passes]
                for stack, passes in runs.items()},
        }
        with open(args.json, 'w') as f:
            json.dump(data, f, indent=1, sort_keys=True)

    if failures:
        print('\nFAILED:')
        for failure in failures:
            print('  ' + failure)
        return 1
    print('\nall result checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
