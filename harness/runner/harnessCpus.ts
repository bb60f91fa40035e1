import { spawnSync } from 'node:child_process';
import { onlineCpus, parseCpuList } from '../probes/onlineCpus';
import type { Profile } from '../profile/profileSchema';

/*
 * Where a profile pins the measured processes to CPUs, the harness's own work during a window (counter
 * reads, the series, bpftool for the eBPF data plane's cost) should not compete with them for those CPUs.
 * The harness moves itself (every thread) to the CPUs nobody measured is pinned to for the window only:
 * processes it spawns inherit its affinity, and the workloads and proxies are spawned outside windows.
 */

/** The CPUs the profile pins measured processes to; null when it pins nothing. */
export function pinnedCpus(profile: Profile): Set<number> | null {
  const p = profile.cpuPinning;
  if (p === undefined) return null;
  // `proxies: workload` pins proxies to the client's and server's CPUs, already listed.
  const lists = [p.client, p.server, p.proxies].filter((v): v is string | number => v !== undefined && v !== 'workload');
  if (lists.length === 0) return null;
  return new Set(lists.flatMap((l) => parseCpuList(String(l))));
}

/**
 * Pure: the first `cpuPinning` entry (client, server, proxies) that names a CPU not in `online`, as one line for
 * the user ("cpuPinning.client: CPU 7 is not online (online: 0-1)"); null when every pinned CPU is online. Checked
 * before anything is deployed: taskset refuses a list of offline CPUs only when the process starts (the data plane
 * was skipped and the run said "complete"), and quietly drops the offline ones of a mixed list ("1-64").
 */
export function offlinePinning(profile: Profile, online: readonly number[]): string | null {
  const p = profile.cpuPinning;
  if (p === undefined) return null;
  const up = new Set(online);
  for (const key of ['client', 'server', 'proxies'] as const) {
    const v = p[key];
    if (v === undefined || v === 'workload') continue;
    const off = [...new Set(parseCpuList(String(v)))].filter((c) => !up.has(c));
    if (off.length > 0) {
      const shown = off.length > 4 ? `${off.slice(0, 3).join(', ')} … ${off[off.length - 1]}` : off.join(', ');
      return `cpuPinning.${key}: CPU ${shown} ${off.length === 1 ? 'is' : 'are'} not online (online: ${online.join(',')})`;
    }
  }
  return null;
}

/** Pure: the harness's CPUs for a window, and a line saying so (or that none is free). */
export function harnessCpuPlan(pinned: Set<number> | null, online: readonly number[]): { cpus: number[] | null; note: string | null } {
  if (pinned === null) return { cpus: null, note: null };
  const free = online.filter((c) => !pinned.has(c));
  if (free.length === 0) {
    return { cpus: null, note: `harness reading shares CPUs with the measured processes: the profile pins them to every online CPU (${online.join(',')}); leave one CPU unpinned to keep the harness off them` };
  }
  return { cpus: free, note: `harness reads on CPU ${free.join(',')} during windows (measured processes pinned to ${[...pinned].sort((a, b) => a - b).join(',')})` };
}

function setAffinity(cpus: string): boolean {
  // taskset -a: every thread of the process (libuv's pool and the addon's threads too).
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0;
}

/** Moves the harness onto the free CPUs for each window and back after it. */
export class HarnessAffinity {
  private readonly all: string;
  private readonly window: string | null;
  readonly note: string | null;
  private inside = false;

  constructor(profile: Profile, online: readonly number[] = onlineCpus()) {
    const plan = harnessCpuPlan(pinnedCpus(profile), online);
    this.all = online.join(',');
    this.window = plan.cpus === null ? null : plan.cpus.join(',');
    this.note = plan.note;
  }

  /** The CPU list the harness uses inside windows, or null when it stays where it is. */
  get windowCpus(): string | null {
    return this.window;
  }

  enter(): void {
    if (this.window === null || this.inside) return;
    this.inside = setAffinity(this.window);
  }

  leave(): void {
    if (!this.inside) return;
    this.inside = false;
    setAffinity(this.all);
  }
}
