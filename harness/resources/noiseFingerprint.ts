import fs from 'node:fs';
import path from 'node:path';
import { monotonicClock, type Clock } from '../../workloads/clock';
import type { Microseconds } from '../../workloads/units';
import type { NoiseFingerprint } from '../results/resultTypes';

/*
 * How noisy the machine was while a step measured: CPU the hypervisor stole, and CPU used by anything
 * that is neither the run's cgroups nor the harness itself. A step measured next to a compiler is not a
 * measurement of the mesh alone; the fingerprint says so instead of leaving it to be guessed.
 */

/** The machine-wide CPU times of /proc/stat's first line, in µs. */
export interface ProcStatTimes {
  readonly userUs: number;
  readonly niceUs: number;
  readonly systemUs: number;
  readonly irqUs: number;
  readonly softirqUs: number;
  readonly stealUs: number;
}

/** /proc/stat counts in USER_HZ ticks, which the kernel fixes at 100 per second for user space (proc(5)). */
const userHz = 100;

/** Pure: parses the aggregate "cpu" line of /proc/stat (proc(5): user nice system idle iowait irq softirq steal …). */
export function parseProcStat(text: string): ProcStatTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no aggregate cpu line in /proc/stat');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const us = (i: number): number => ((f[i] ?? 0) * 1e6) / userHz;
  return { userUs: us(0), niceUs: us(1), systemUs: us(2), irqUs: us(5), softirqUs: us(6), stealUs: us(7) };
}

/** Thresholds above which a step is flagged noisy (shares of the machine's CPU time over the window). */
export interface NoiseThresholds {
  /** Steal above 2 %: the hypervisor took enough to move a CPU-per-request figure by more than gates resolve. */
  readonly stealShare: number;
  /**
   * Other work above 10 % of the machine: a neighbour used a tenth of the CPUs the mesh competes for. Measured
   * on the 2-core machine (README "meshbench run", noise fingerprint): steps beside 22–26 % of other work had a
   * P50 5–14 % and a P99 4–123 % above the same steps beside none (0.0 %), while unflagged repetitions agreed
   * within 1 % at P50; so a flag at 10 % errs on the side of naming noise.
   */
  readonly outsideShare: number;
}

export const defaultNoiseThresholds: NoiseThresholds = { stealShare: 0.02, outsideShare: 0.10 };

/** One instant's readings for the fingerprint. */
export interface NoiseReading {
  readonly atUs: Microseconds;
  readonly machine: ProcStatTimes;
  /** usage_usec of the run's cgroup subtree (cgroup v2 cpu.stat at the common parent of the components). */
  readonly runCgroupUs: number;
  /** This process's user+system CPU. */
  readonly harnessUs: number;
}

/** Pure: the fingerprint of the window between two readings. */
export function noiseFingerprint(a: NoiseReading, b: NoiseReading, cpus: number, t: NoiseThresholds = defaultNoiseThresholds): NoiseFingerprint {
  const windowUs = Math.max(0, b.atUs - a.atUs);
  const capacityUs = windowUs * Math.max(1, cpus);
  const d = (k: keyof ProcStatTimes): number => Math.max(0, b.machine[k] - a.machine[k]);
  const busyUs = d('userUs') + d('niceUs') + d('systemUs');
  const runUs = Math.max(0, b.runCgroupUs - a.runCgroupUs);
  const harnessCpuUs = Math.max(0, b.harnessUs - a.harnessUs);
  // Tick-based machine figures against µs cgroup figures: never below zero.
  const outsideCpuUs = Math.max(0, busyUs - runUs - harnessCpuUs);
  const stealUs = d('stealUs');
  const share = (v: number): number => (capacityUs > 0 ? v / capacityUs : 0);
  const flags: string[] = [];
  if (share(stealUs) > t.stealShare) flags.push(`CPU steal ${(100 * share(stealUs)).toFixed(1)}% of the machine (threshold ${(100 * t.stealShare).toFixed(0)}%)`);
  // Beside it, the run's own share and irq+softirq (which rises with a neighbour's network traffic): how much
  // the other work weighed against what was measured.
  const pct = (v: number): string => `${(100 * share(v)).toFixed(1)}%`;
  if (share(outsideCpuUs) > t.outsideShare) {
    flags.push(`CPU used outside meshbench ${pct(outsideCpuUs)} of the machine (threshold ${(100 * t.outsideShare).toFixed(0)}%; the run's own cgroups ${pct(runUs)}, irq+softirq ${pct(d('irqUs') + d('softirqUs'))})`);
  }
  return {
    windowUs, cpus, stealUs, stealShare: share(stealUs), outsideCpuUs, outsideShare: share(outsideCpuUs),
    irqUs: d('irqUs') + d('softirqUs'), harnessCpuUs, flags,
  };
}

/** The deepest directory that holds every path (the run's cgroup root for the components' cgroups). */
export function commonParent(paths: readonly string[]): string | null {
  if (paths.length === 0) return null;
  const split = paths.map((p) => path.dirname(p).split(path.sep));
  const first = split[0] as string[];
  let n = first.length;
  for (const s of split) {
    let i = 0;
    while (i < n && s[i] === first[i]) i += 1;
    n = i;
  }
  const dir = first.slice(0, n).join(path.sep);
  return dir === '' ? null : dir;
}

function usageUs(v2Dir: string): number {
  const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(v2Dir, 'cpu.stat'), 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

/** Reads the fingerprint's counters at the window's start and end (the same instants as the CPU figures). */
export class NoiseMeter {
  private first: NoiseReading | null = null;
  private last: NoiseReading | null = null;

  constructor(private readonly runCgroup: string | null, private readonly cpus: number, private readonly clock: Clock = monotonicClock, private readonly procStat = '/proc/stat') {}

  start(): void {
    this.first = this.read();
  }

  markEnd(): void {
    if (this.first !== null && this.last === null) this.last = this.read();
  }

  /** null when /proc/stat was unreadable at either end. */
  result(): NoiseFingerprint | null {
    this.markEnd();
    return this.first === null || this.last === null ? null : noiseFingerprint(this.first, this.last, this.cpus);
  }

  private read(): NoiseReading | null {
    try {
      const machine = parseProcStat(fs.readFileSync(this.procStat, 'utf8'));
      let runCgroupUs = 0;
      try {
        if (this.runCgroup !== null) runCgroupUs = usageUs(this.runCgroup);
      } catch {
        // the run's cgroup is gone: its share counts as outside, which the flag then shows
      }
      const u = process.cpuUsage();
      return { atUs: this.clock.nowUs(), machine, runCgroupUs, harnessUs: u.user + u.system };
    } catch {
      return null;
    }
  }
}
