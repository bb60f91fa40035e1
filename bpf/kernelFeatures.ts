import fs from 'node:fs';
import * as bpf from './bpfBindings';

/*
 * What this kernel lets meshbench hook, found by trying (libbpf-tools' probe_tp_btf / fentry_can_attach
 * style): each feature loads and attaches a tiny program and detaches it at once. Never throws; every
 * refusal comes back with its reason. `meshbench doctor` shows the result.
 */
export const kernelFeatureNames = ['tp_btf', 'raw_tp', 'fentry', 'kprobe', 'perf_event', 'perf_hardware'] as const;
export type KernelFeatureName = (typeof kernelFeatureNames)[number];

export interface KernelFeature {
  readonly name: KernelFeatureName;
  readonly available: boolean;
  /** What was found: the hook that worked, or "unavailable: <reason>". */
  readonly detail: string;
}

function lockdown(): string | null {
  try {
    const m = /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/security/lockdown', 'utf8'));
    return m !== null && m[1] !== 'none' ? (m[1] as string) : null;
  } catch {
    return null;
  }
}

/** Why a hook was refused, in words a user can act on (shared with the probe session's "unavailable" notes). */
export function explainRefusal(hook: string, err: unknown): string {
  let msg = err instanceof Error ? err.message.replace(/^cannot /, '') : String(err);
  if (/^k(ret)?probe/.test(hook) && !fs.existsSync('/sys/bus/event_source/devices/kprobe')) {
    // libbpf then falls back to tracefs kprobe_events, whose ENOENT would hide the real cause.
    msg = 'this kernel has no kprobe PMU (built without CONFIG_KPROBE_EVENTS)';
  }
  const lock = lockdown();
  const refused = err instanceof bpf.BpfError && (err.code === 'EPERM' || err.code === 'EACCES' || err.code === 'EBPFATTACH');
  return refused && lock !== null ? `${msg}; kernel lockdown=${lock} refuses it too` : msg;
}

function tryPrograms(object: string, programs: readonly string[]): void {
  const h = bpf.openObject(object);
  try {
    for (const p of bpf.describeObject(h).programs) bpf.setAutoload(h, p.name, programs.includes(p.name));
    bpf.load(h);
    const links = programs.map((p) => bpf.attach(h, p));
    for (const l of links) bpf.detach(l);
  } finally {
    bpf.close(h);
  }
}

function tryPerf(type: number, config: number): void {
  const fd = bpf.perfEventOpen({ type, config, pid: 0, cpu: -1 });
  bpf.perfEventClose(fd);
}

export function probeKernelFeatures(isRoot: () => boolean = () => process.getuid?.() === 0): KernelFeature[] {
  const checks: ReadonlyArray<[KernelFeatureName, string, () => void]> = [
    ['tp_btf', 'tp_btf/sched_wakeup', () => tryPrograms('selftest', ['mb_probe_tpbtf'])],
    ['raw_tp', 'raw_tp/sys_enter', () => tryPrograms('selftest', ['mb_selftest'])],
    ['fentry', 'fentry/tcp_sendmsg', () => tryPrograms('extras', ['mb_fe_sendmsg'])],
    ['kprobe', 'kprobe/tcp_sendmsg', () => tryPrograms('extras', ['mb_kp_sendmsg'])],
    ['perf_event', 'software cpu-clock', () => tryPerf(bpf.PerfType.software, bpf.PerfSoftwareCounter.cpuClock)],
    ['perf_hardware', 'hardware cycles', () => tryPerf(bpf.PerfType.hardware, bpf.PerfHardwareCounter.cycles)],
  ];
  if (!isRoot()) return checks.map(([name]) => ({ name, available: false, detail: 'unavailable: needs root' }));
  if (!bpf.addonAvailable()) return checks.map(([name]) => ({ name, available: false, detail: 'unavailable: the BPF addon is not built (bash ci/setup.sh)' }));
  return checks.map(([name, what, check]) => {
    try {
      check();
      return { name, available: true, detail: what };
    } catch (err) {
      if (name === 'perf_hardware' && err instanceof bpf.BpfError && err.code === 'ENOTSUPPORTED') {
        return { name, available: false, detail: 'unavailable: not supported (no hardware PMU, e.g. inside a VM)' };
      }
      return { name, available: false, detail: `unavailable: ${what}: ${explainRefusal(what, err)}` };
    }
  });
}
