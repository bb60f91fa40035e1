import fs from 'node:fs';
import path from 'node:path';
import { monotonicClock, type Clock } from '../../workloads/clock';
import type { Microseconds } from '../../workloads/units';
import type { ComponentResources } from '../results/resultTypes';

/** Where one component's counters live: cgroup v2 for CPU (always present), v1 memory where the machine is hybrid. */
export interface SampledCgroup {
  readonly name: string;
  readonly v2Path: string;
  readonly memoryV1Path?: string;
}

export interface Sample {
  readonly atUs: Microseconds;
  readonly userUs: number;
  readonly systemUs: number;
  readonly rssBytes: number | null;
}

/** Reads the CPU counters of cgroup v2's cpu.stat (µs), which exist without any controller enabled. */
export function readCpuStat(v2Path: string): { userUs: number; systemUs: number } {
  const text = fs.readFileSync(path.join(v2Path, 'cpu.stat'), 'utf8');
  let userUs = 0;
  let systemUs = 0;
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k === 'user_usec') userUs = Number(v);
    else if (k === 'system_usec') systemUs = Number(v);
  }
  return { userUs, systemUs };
}

/**
 * Resident memory of a cgroup: v2 memory.stat "anon" where the memory controller is on, else v1's
 * total_rss (anonymous memory, what the processes themselves hold; page cache is not the component's cost).
 */
export function readRssBytes(cg: SampledCgroup): number | null {
  const candidates: Array<[string, string]> = [[path.join(cg.v2Path, 'memory.stat'), 'anon']];
  if (cg.memoryV1Path !== undefined) candidates.push([path.join(cg.memoryV1Path, 'memory.stat'), 'total_rss']);
  for (const [file, key] of candidates) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
    if (m !== null) return Number(m[1]);
  }
  return null;
}

/** CPU counters of one component at one instant (µs, cgroup v2 cpu.stat). */
export interface CpuReading {
  readonly userUs: number;
  readonly systemUs: number;
}

/** Where a window's peak memory came from. */
export const sampledPeakSource = 'sampled maximum of RSS (every 200 ms)';

/**
 * Pure: the figures of one measured window. CPU is the difference of the readings taken at the window's
 * start and end instants (the load client's events), over the requests the client counted in that same
 * window: nothing before or after it is in the figure. The 200 ms series gives the RSS average (dropping
 * `trimUs` at both ends) and, where the kernel keeps no peak, the sampled maximum.
 */
export function windowResources(
  start: CpuReading, end: CpuReading, startUs: Microseconds, endUs: Microseconds,
  series: readonly Sample[], trimUs: Microseconds, requests: number,
  kernelPeak: { bytes: number; source: string } | null,
): ComponentResources {
  const cpuUserUs = Math.max(0, end.userUs - start.userUs);
  const cpuSystemUs = Math.max(0, end.systemUs - start.systemUs);
  const cpuTotalUs = cpuUserUs + cpuSystemUs;
  const wallUs = endUs - startUs;
  const inWindow = series.filter((x) => x.atUs >= startUs && x.atUs <= endUs);
  let kept = inWindow.filter((x) => x.atUs >= startUs + trimUs && x.atUs <= endUs - trimUs);
  if (kept.length === 0) kept = inWindow; // window too short to trim: use everything rather than nothing
  const rss = kept.map((x) => x.rssBytes).filter((v): v is number => v !== null);
  const rssAll = inWindow.map((x) => x.rssBytes).filter((v): v is number => v !== null);
  const sampledPeak = rssAll.length > 0 ? Math.max(...rssAll) : null;
  return {
    cpuUserUs,
    cpuSystemUs,
    cpuTotalUs,
    cpuUsPerRequest: requests > 0 ? cpuTotalUs / requests : null,
    cpuCores: wallUs > 0 ? cpuTotalUs / wallUs : 0,
    memoryRssBytesAvg: rss.length > 0 ? rss.reduce((a, b) => a + b, 0) / rss.length : null,
    memoryRssBytesPeak: sampledPeak,
    samples: inWindow.length,
    memoryPeakBytes: kernelPeak?.bytes ?? sampledPeak,
    memoryPeakSource: kernelPeak?.source ?? (sampledPeak === null ? 'not measured: no RSS readable (no memory controller on this cgroup)' : sampledPeakSource),
  };
}

/**
 * The kernel's peak of a cgroup's charged memory over a window: cgroup v1 memory.max_usage_in_bytes
 * (writing 0 resets it to the current usage), else cgroup v2 memory.peak (Linux ≥ 6.12: a write resets the
 * peak for reads through the same file descriptor, so the fd is kept open until the window ends).
 * `begin()` returns null where neither can be reset; the caller then uses the sampled maximum.
 */
export class KernelPeakMemory {
  private constructor(private readonly read: () => number | null, readonly source: string, private release: () => void) {}

  static begin(cg: SampledCgroup): KernelPeakMemory | null {
    if (cg.memoryV1Path !== undefined) {
      const file = path.join(cg.memoryV1Path, 'memory.max_usage_in_bytes');
      try {
        fs.writeFileSync(file, '0');
        return new KernelPeakMemory(() => Number(fs.readFileSync(file, 'utf8').trim()), 'cgroup v1 memory.max_usage_in_bytes (reset at the window start)', () => undefined);
      } catch {
        // no v1 memory controller here: try v2
      }
    }
    let fd: number | undefined;
    try {
      fd = fs.openSync(path.join(cg.v2Path, 'memory.peak'), 'r+');
      fs.writeSync(fd, 'reset\n');
      const held = fd;
      const buf = Buffer.alloc(64);
      return new KernelPeakMemory(() => {
        const n = fs.readSync(held, buf, 0, buf.length, 0);
        return Number(buf.subarray(0, n).toString('utf8').trim());
      }, 'cgroup v2 memory.peak (reset at the window start)', () => fs.closeSync(held));
    } catch {
      if (fd !== undefined) fs.closeSync(fd);
      return null;
    }
  }

  /** The peak since begin(), in bytes; null when the file could not be read. Releases the file. */
  end(): { bytes: number; source: string } | null {
    try {
      const v = this.read();
      return v === null || !Number.isFinite(v) ? null : { bytes: v, source: this.source };
    } catch {
      return null;
    } finally {
      this.abandon();
    }
  }

  /** Releases the file without reading (aborted steps); safe to call twice. */
  abandon(): void {
    try {
      this.release();
    } catch {
      // already closed
    }
    this.release = (): void => undefined;
  }
}

function readCpuOrNull(v2Path: string): CpuReading | null {
  try {
    return readCpuStat(v2Path);
  } catch {
    return null; // the cgroup went away (component exited)
  }
}

/**
 * A step's resource measurement. `start()` and `markEnd()` read every component's counters at the two
 * instants that bound the load client's measured window (call them from its events); between them a
 * 200 ms series is kept for charts and the RSS average. Whatever happens after markEnd() (probe teardown,
 * symbolisation, path checks) is in no figure.
 */
export class CgroupSampler {
  private readonly series = new Map<string, Sample[]>();
  private readonly startReadings = new Map<string, CpuReading>();
  private readonly endReadings = new Map<string, CpuReading>();
  private readonly peaks = new Map<string, KernelPeakMemory>();
  private readonly peakResults = new Map<string, { bytes: number; source: string } | null>();
  private timer: NodeJS.Timeout | undefined;
  private startUs = 0;
  private endUs: number | undefined;

  constructor(private readonly targets: readonly SampledCgroup[], private readonly intervalMs = 200, private readonly clock: Clock = monotonicClock) {}

  /** Reads the window-start counters and resets the kernel's peak memory; starts the series. */
  start(): void {
    for (const t of this.targets) {
      this.series.set(t.name, []);
      const peak = KernelPeakMemory.begin(t);
      if (peak !== null) this.peaks.set(t.name, peak);
      const r = readCpuOrNull(t.v2Path);
      if (r !== null) this.startReadings.set(t.name, r);
    }
    this.startUs = this.clock.nowUs();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref(); // never what keeps the process alive
  }

  /** Whether start() ran and markEnd() has not. */
  get measuring(): boolean {
    return this.timer !== undefined;
  }

  /** Reads the window-end counters and peaks and stops the series; only the first call counts. */
  markEnd(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    this.endUs = this.clock.nowUs();
    for (const t of this.targets) {
      const r = readCpuOrNull(t.v2Path);
      if (r !== null) this.endReadings.set(t.name, r);
    }
    for (const [name, peak] of this.peaks) this.peakResults.set(name, peak.end());
  }

  /** The window's figures per component (markEnd() first if it has not run). */
  stop(requests: number, trimUs: Microseconds): Record<string, ComponentResources> {
    this.markEnd();
    const endUs = this.endUs ?? this.clock.nowUs();
    const out: Record<string, ComponentResources> = {};
    for (const t of this.targets) {
      const start = this.startReadings.get(t.name);
      if (start === undefined) continue; // never readable: no row rather than an invented one
      const series = this.series.get(t.name) ?? [];
      // A cgroup gone by the end keeps its last reading: it did nothing after it went away.
      const last = series[series.length - 1];
      const end = this.endReadings.get(t.name) ?? (last === undefined ? start : { userUs: last.userUs, systemUs: last.systemUs });
      out[t.name] = windowResources(start, end, this.startUs, endUs, series, trimUs, requests, this.peakResults.get(t.name) ?? null);
    }
    return out;
  }

  /** Stops without figures (aborted steps): ends the timer and releases the peak files. */
  abandon(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const p of this.peaks.values()) p.abandon();
  }

  private sample(): void {
    const atUs = this.clock.nowUs();
    for (const t of this.targets) {
      const cpu = readCpuOrNull(t.v2Path);
      if (cpu !== null) this.series.get(t.name)?.push({ atUs, ...cpu, rssBytes: readRssBytes(t) });
    }
  }
}
