import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DoctorCheck } from './doctorCheck';

/*
 * What this machine can do, checked by looking (files, versions, sysctls), never by creating what the
 * checks are about. The one change doctor makes is mounting securityfs when it is not mounted, because
 * the lockdown mode (which decides kprobes and fentry) can only be read there.
 */

/** Where the checks look; tests point these at a fake tree. */
export interface MachineView {
  readonly readFile: (p: string) => string | undefined;
  readonly exists: (p: string) => boolean;
  /** First line of a command's output (stdout then stderr), undefined when it does not run. */
  readonly commandLine: (cmd: string, args: readonly string[], anyExit?: boolean) => string | undefined;
  readonly isRoot: boolean;
  readonly kernelRelease: string;
  readonly mounts: string;
  /**
   * Hooks tried for real by loading tiny programs (bpf/kernelFeatures.ts), when the addon is built and we
   * are root; otherwise undefined and the rows are inferred from files (lockdown, kprobe PMU, BTF).
   */
  readonly kernelFeatures?: ReadonlyArray<{ readonly name: string; readonly available: boolean; readonly detail: string }>;
}

export function realMachine(): MachineView {
  return {
    readFile: (p) => {
      try {
        return fs.readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (p) => fs.existsSync(p),
    commandLine: (cmd, args, anyExit = false) => {
      const r = spawnSync(cmd, [...args], { encoding: 'utf8', timeout: 5000 });
      if (r.error !== undefined || r.status === null) return undefined;
      const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
      return r.status === 0 || anyExit ? (out ?? '') : undefined;
    },
    isRoot: process.getuid?.() === 0,
    kernelRelease: os.release(),
    mounts: fs.readFileSync('/proc/self/mounts', 'utf8'),
  };
}

/** Mounts securityfs when absent so the lockdown mode can be read; best effort. */
export function ensureSecurityfs(m: MachineView): void {
  if (m.exists('/sys/kernel/security/lockdown') || !m.isRoot) return;
  if (/ \/sys\/kernel\/security securityfs /.test(m.mounts)) return;
  spawnSync('mount', ['-t', 'securityfs', 'securityfs', '/sys/kernel/security'], { timeout: 5000 });
}

function row(name: string, ok: boolean, detail: string, enables: string, fix: string | null, core = false): DoctorCheck {
  return { name, ok, detail, enables, fix: ok ? null : fix, core };
}

/** The active lockdown mode ("none", "integrity", "confidentiality"), or undefined when it cannot be read. */
export function lockdownMode(m: MachineView): string | undefined {
  const text = m.readFile('/sys/kernel/security/lockdown');
  return text === undefined ? undefined : /\[(\w+)\]/.exec(text)?.[1];
}

function tracefsRoot(m: MachineView): string | undefined {
  for (const p of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing']) if (m.exists(path.join(p, 'events'))) return p;
  return undefined;
}

function cgroupLayout(m: MachineView): { v2: string | undefined; v1: string[] } {
  let v2: string | undefined;
  const v1: string[] = [];
  for (const line of m.mounts.split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (mountPoint === undefined) continue;
    if (type === 'cgroup2' && v2 === undefined) v2 = mountPoint;
    if (type === 'cgroup') for (const c of ['cpu', 'cpuacct', 'memory']) if ((opts ?? '').split(',').includes(c)) v1.push(c);
  }
  return { v2, v1 };
}

function tool(m: MachineView, name: string, cmd: string, args: readonly string[], enables: string, fix: string, clean: (l: string) => string = (l) => l, anyExit = false): DoctorCheck {
  const line = m.commandLine(cmd, args, anyExit);
  return row(name, line !== undefined, line === undefined ? 'not found' : clean(line), enables, fix);
}

export function localDoctorChecks(m: MachineView = realMachine()): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  checks.push(row('root', m.isRoot, m.isRoot ? 'running as root' : `uid ${process.getuid?.() ?? '?'}`, 'network namespaces, cgroups, BPF programs (the netns platform and the probes)', 'run as root (sudo meshbench …)', true));

  const btf = m.exists('/sys/kernel/btf/vmlinux');
  const tracefs = tracefsRoot(m);
  const tpEvent = tracefs !== undefined && m.exists(path.join(tracefs, 'events/sock/sock_send_length'));
  const probesCore = btf || tpEvent;
  checks.push(row('kernel', true, m.kernelRelease, 'recorded with every run', null));
  checks.push(row('BTF', btf, btf ? '/sys/kernel/btf/vmlinux' : 'no /sys/kernel/btf/vmlinux', 'CO-RE probes, tp_btf and raw_tp hooks, vmlinux.h for the build', 'a kernel built with CONFIG_DEBUG_INFO_BTF=y', !probesCore));
  checks.push(row('tracepoints', tpEvent,
    tracefs === undefined ? 'tracefs not mounted' : tpEvent ? `tracefs at ${tracefs} (sock, sched, skb, net, raw_syscalls events)` : `tracefs at ${tracefs} lacks sock:sock_send_length`,
    'classic tracepoint probes (bytes copied, connection states, packets)',
    tracefs === undefined ? 'mount -t tracefs tracefs /sys/kernel/tracing' : 'a kernel ≥ 5.x with the sock tracepoints', !probesCore));

  const lockdown = lockdownMode(m);
  const locked = lockdown !== undefined && lockdown !== 'none';
  const lockdownText = lockdown === undefined ? 'lockdown mode unreadable (securityfs not mounted)' : `lockdown ${lockdown}`;
  // lockdownBlocks: hooks lockdown refuses (kprobes, fentry here); for the others a refusal has its own reason.
  const tried = (name: string, lockdownBlocks = false): { available: boolean; detail: string } | undefined => {
    const f = m.kernelFeatures?.find((x) => x.name === name);
    if (f === undefined || /needs root|addon is not built/.test(f.detail)) return undefined;
    const how = f.detail.replace(/^unavailable: /, '').replace(/; kernel lockdown=\w+ refuses it too$/, '');
    if (f.available) return { available: true, detail: `attached ${how}` };
    return { available: false, detail: lockdownBlocks && locked ? `unavailable: kernel lockdown (${lockdown}); tried ${how}` : `unavailable: ${how}` };
  };
  const kprobeEvents = tracefs !== undefined && m.exists(path.join(tracefs, 'kprobe_events'));
  const kprobePmu = m.exists('/sys/bus/event_source/devices/kprobe');
  const kprobeTried = tried('kprobe', true);
  const kprobesOk = kprobeTried?.available ?? ((kprobeEvents || kprobePmu) && !locked);
  checks.push(row('kprobes', kprobesOk,
    kprobeTried?.detail ?? (kprobesOk ? 'kprobe PMU / kprobe_events present' : locked ? `unavailable: kernel lockdown (${lockdown})` : 'unavailable: kernel built without kprobe events (no kprobe PMU, no kprobe_events)'),
    'finer probes where no tracepoint exists (optional: tracepoints cover every category)',
    locked ? 'boot without lockdown (lockdown=none) or with a kernel that allows kprobes' : 'a kernel with CONFIG_KPROBES and CONFIG_KPROBE_EVENTS'));
  const fentryTried = tried('fentry', true);
  const fentryOk = fentryTried?.available ?? (btf && !locked && m.exists(path.join(tracefs ?? '/sys/kernel/tracing', 'available_filter_functions')));
  checks.push(row('fentry/fexit', fentryOk,
    fentryTried?.detail ?? (fentryOk ? 'BTF and ftrace present, no lockdown' : locked ? `unavailable: kernel lockdown (${lockdown})` : !btf ? 'unavailable: no BTF' : 'unavailable: no ftrace (available_filter_functions)'),
    'lowest-cost function probes (optional)', locked ? 'boot without lockdown (lockdown=none)' : 'a kernel with BTF and CONFIG_FUNCTION_TRACER'));
  for (const [name, enables] of [['tp_btf', 'the cheapest tracepoint hooks (sched, sock) with BTF-typed arguments'], ['raw_tp', 'raw tracepoints (sys_enter/sys_exit for syscalls), the fallback for tp_btf']] as const) {
    const t = tried(name);
    if (t !== undefined) checks.push(row(name, t.available, t.detail, enables, 'a kernel ≥ 5.5 with BTF (tp_btf) or ≥ 4.17 (raw_tp)'));
  }
  // Informational: lockdown is a setting, not a missing feature; its effect shows in the two rows above.
  checks.push(row('kernel lockdown', true, locked ? `${lockdownText}: kprobes and fentry refused, the probes use tracepoints` : lockdownText, 'explains which hooks the kernel refuses', null));

  const paranoid = m.readFile('/proc/sys/kernel/perf_event_paranoid')?.trim();
  const swPmu = m.exists('/sys/bus/event_source/devices/software');
  const swTried = tried('perf_event');
  checks.push(row('perf_event (software)', swTried?.available ?? (swPmu && (m.isRoot || Number(paranoid) <= 1)),
    swTried !== undefined ? `${swTried.detail} (perf_event_open), perf_event_paranoid ${paranoid ?? '?'}` : `software PMU ${swPmu ? 'present' : 'absent'}, perf_event_paranoid ${paranoid ?? '?'}`,
    'cpu-clock stack sampling (flame graphs, the overhead breakdown)', 'run as root or sysctl kernel.perf_event_paranoid=1'));
  const hwTried = tried('perf_hardware');
  const hwPmu = hwTried?.available ?? (m.exists('/sys/bus/event_source/devices/cpu') || m.exists('/sys/bus/event_source/devices/cpu_core'));
  checks.push(row('perf_event (hardware counters)', hwPmu, hwTried?.detail ?? (hwPmu ? 'CPU PMU present' : 'no CPU PMU (/sys/bus/event_source/devices/cpu): a VM without PMU passthrough'),
    'cycles and instructions per request (optional; cpu-clock sampling works without)', 'a host or VM with PMU virtualisation (e.g. KVM -cpu host,pmu=on)'));
  const stats = m.readFile('/proc/sys/kernel/bpf_stats_enabled')?.trim();
  checks.push(row('bpf_stats', stats !== undefined, stats === undefined ? 'no kernel.bpf_stats_enabled' : `kernel.bpf_stats_enabled=${stats} (turned on only while measuring)`,
    'the eBPF data plane\'s own program run time', 'a kernel ≥ 5.1'));

  const cg = cgroupLayout(m);
  checks.push(row('cgroup v2', cg.v2 !== undefined, cg.v2 === undefined ? 'no cgroup2 mount' : `cgroup2 at ${cg.v2}${cg.v1.length > 0 ? ' (hybrid)' : ''}`,
    'per-component CPU (cpu.stat), cgroup ids for the probes, cgroup/connect4 for the kernel data plane', 'mount -t cgroup2 none /sys/fs/cgroup/unified', true));
  const memV2 = cg.v2 !== undefined && (m.readFile(path.join(cg.v2, 'cgroup.controllers')) ?? '').includes('memory');
  checks.push(row('cgroup memory', memV2 || cg.v1.includes('memory'), memV2 ? 'v2 memory controller' : cg.v1.includes('memory') ? `v1 controllers: ${[...new Set(cg.v1)].join(', ')}` : 'no memory controller',
    'memory (RSS) per component', 'enable the memory controller (v2) or mount the v1 memory hierarchy'));

  checks.push(tool(m, 'clang', 'clang', ['--version'], 'compiling the eBPF programs (bpf/*.bpf.c)', 'apt-get install clang llvm (bash ci/setup.sh)'));
  checks.push(tool(m, 'bpftool', 'bpftool', ['version'], 'vmlinux.h and skeletons at build time; BPF program statistics', 'apt-get install bpftool (bash ci/setup.sh)'));
  const libbpf = ['/usr/lib/x86_64-linux-gnu/libbpf.so.1', '/usr/lib/aarch64-linux-gnu/libbpf.so.1', '/usr/lib64/libbpf.so.1', '/usr/lib/libbpf.so.1'].find((p) => m.exists(p));
  checks.push(row('libbpf', libbpf !== undefined, libbpf ?? 'libbpf.so.1 not found', 'the native addon that loads the probes and the kernel data plane', 'apt-get install libbpf-dev (bash ci/setup.sh)'));
  checks.push(tool(m, 'perf', 'perf', ['--version'], 'cpu-clock stack samples per component when the eBPF sampler is absent', 'apt-get install linux-perf'));
  checks.push(tool(m, 'HAProxy', 'haproxy', ['-v'], 'the proxies of the sidecar, ambient, waypoint and dual data planes', 'apt-get install haproxy', (l) => l.replace(/^HAProxy version /, '')));
  checks.push(tool(m, 'nginx', 'nginx', ['-v'], 'the reference server of npm run bench:workloads (optional)', 'apt-get install nginx'));
  checks.push(tool(m, 'wrk', 'wrk', ['-v'], 'the reference load client of npm run bench:workloads (optional)', 'apt-get install wrk', (l) => l.split(' [')[0] ?? l, true));
  checks.push(tool(m, 'iproute2', 'ip', ['-V'], 'network namespaces, veths and routes of the netns cluster', 'apt-get install iproute2'));
  checks.push(tool(m, 'iptables', 'iptables', ['--version'], 'service DNAT and the sidecar/ambient redirects', 'apt-get install iptables'));
  checks.push(tool(m, 'util-linux', 'nsenter', ['--version'], 'entering pod namespaces (nsenter), proxy uid (setpriv), CPU pinning (taskset)', 'apt-get install util-linux'));
  return checks;
}

/** Non-zero only when the core is missing: root, cgroup v2, and BTF or tracepoints. */
export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.core && !c.ok) ? 3 : 0;
}
