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

/** Pure: turns a series of samples into the figures of one window, dropping `trimUs` at both ends. */
export function summariseSamples(samples: readonly Sample[], startUs: Microseconds, endUs: Microseconds, trimUs: Microseconds, requests: number): ComponentResources {
  const from = startUs + trimUs;
  const to = endUs - trimUs;
  let kept: readonly Sample[] = samples.filter((s) => s.atUs >= from && s.atUs <= to);
  if (kept.length < 2) kept = samples; // window too short to trim: use everything rather than nothing
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first === undefined || last === undefined || kept.length < 2) {
    return { cpuUserUs: 0, cpuSystemUs: 0, cpuTotalUs: 0, cpuUsPerRequest: null, cpuCores: 0, memoryRssBytesAvg: null, memoryRssBytesPeak: null, samples: kept.length };
  }
  const cpuUserUs = last.userUs - first.userUs;
  const cpuSystemUs = last.systemUs - first.systemUs;
  const cpuTotalUs = cpuUserUs + cpuSystemUs;
  const wallUs = last.atUs - first.atUs;
  // Requests are counted over the whole measured window; scale them to the kept part.
  const keptRequests = requests * (wallUs / Math.max(1, endUs - startUs));
  const rss = kept.map((s) => s.rssBytes).filter((v): v is number => v !== null);
  return {
    cpuUserUs,
    cpuSystemUs,
    cpuTotalUs,
    cpuUsPerRequest: keptRequests > 0 ? cpuTotalUs / keptRequests : null,
    cpuCores: wallUs > 0 ? cpuTotalUs / wallUs : 0,
    memoryRssBytesAvg: rss.length > 0 ? rss.reduce((a, b) => a + b, 0) / rss.length : null,
    memoryRssBytesPeak: rss.length > 0 ? Math.max(...rss) : null,
    samples: kept.length,
  };
}

/** Samples every component's cgroup at a fixed interval through a step. */
export class CgroupSampler {
  private readonly series = new Map<string, Sample[]>();
  private timer: NodeJS.Timeout | undefined;
  private startUs = 0;
  private endUs = 0;

  constructor(private readonly targets: readonly SampledCgroup[], private readonly intervalMs = 200, private readonly clock: Clock = monotonicClock) {}

  start(): void {
    this.startUs = this.clock.nowUs();
    for (const t of this.targets) this.series.set(t.name, []);
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref(); // never what keeps the process alive
  }

  stop(requests: number, trimUs: Microseconds): Record<string, ComponentResources> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    this.endUs = this.clock.nowUs();
    const out: Record<string, ComponentResources> = {};
    for (const t of this.targets) out[t.name] = summariseSamples(this.series.get(t.name) ?? [], this.startUs, this.endUs, trimUs, requests);
    return out;
  }

  private sample(): void {
    const atUs = this.clock.nowUs();
    for (const t of this.targets) {
      try {
        const cpu = readCpuStat(t.v2Path);
        this.series.get(t.name)?.push({ atUs, ...cpu, rssBytes: readRssBytes(t) });
      } catch {
        // the cgroup went away (component exited): its last sample stands
      }
    }
  }
}
