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
  const roles = pinnedRoles(profile);
  return roles.length === 0 ? null : new Set(roles.flatMap(([, cpus]) => cpus));
}

/** The roles the profile pins (client, server, proxies, in that order) with their CPUs; [] when it pins nothing. */
export function pinnedRoles(profile: Profile): Array<readonly [string, number[]]> {
  const p = profile.cpuPinning;
  if (p === undefined) return [];
  // `proxies: workload` pins proxies to the client's and server's CPUs, already listed.
  return (['client', 'server', 'proxies'] as const).flatMap((k) => {
    const v = p[k];
    return v === undefined || v === 'workload' ? [] : [[k, [...new Set(parseCpuList(String(v)))]] as const];
  });
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

/**
 * Pure: the harness's CPUs for a window, and a line saying so (or that none is free). `roles` (pinnedRoles)
 * makes the no-free-CPU line precise: which role is on which CPU, and the advice to leave a CPU free only
 * when it can be followed without putting two roles on one CPU that had a CPU each: that is, unless every
 * role has one CPU of its own (no two roles share one) and they cover the online CPUs (profiles/search.yaml on 2
 * CPUs: client on 0, server on 1). There the line stays, since it is true (the harness floats over those CPUs
 * with the measured processes), but says it cannot be otherwise. Where roles already share a CPU (client and
 * server on 0, proxies on 1), pinning the rest there too frees one, and the line says so.
 */
export function harnessCpuPlan(pinned: Set<number> | null, online: readonly number[], roles: ReadonlyArray<readonly [string, readonly number[]]> = []): { cpus: number[] | null; note: string | null } {
  if (pinned === null) return { cpus: null, note: null };
  const free = online.filter((c) => !pinned.has(c));
  if (free.length === 0) {
    const who = roles.length === 0 ? 'measured processes' : roles.map(([r, cpus]) => `${r} on ${cpus.join(',')}`).join(', ');
    // One CPU per role and no CPU in two roles' lists: only then can none be freed (a role on several CPUs can be
    // narrowed, roles that already share a CPU can take the rest there).
    const separate = roles.length > 0 && roles.every(([, cpus]) => cpus.length === 1) && new Set(roles.flatMap(([, cpus]) => cpus)).size === roles.length;
    const advice = separate
      ? `each of the ${roles.length} pinned roles has a CPU of its own, so none can be left free for it without two roles sharing one`
      : 'pin them to fewer CPUs to leave one free for the harness';
    return { cpus: null, note: `harness reading shares CPUs ${online.join(',')} with the pinned ${who} (no online CPU is left unpinned): ${advice}` };
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
    const plan = harnessCpuPlan(pinnedCpus(profile), online, pinnedRoles(profile));
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
