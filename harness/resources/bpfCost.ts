import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Bytes } from '../../workloads/units';

/*
 * The eBPF data plane's own cost: run time of its programs (the kernel counts it only while bpf_stats is
 * on) and the memory of its maps. Its programs run inside the sockets' owners (connect4 in the client's
 * connect, sk_msg in the sender's sendmsg), so this time is already part of those components' cgroup CPU:
 * it is reported beside them, never added to them.
 */

export interface EbpfObjects {
  readonly progIds: readonly number[];
  readonly mapIds: readonly number[];
}

export interface EbpfCost {
  readonly programs: number;
  readonly maps: number;
  /** Program invocations during the measured window. */
  readonly runCount: number;
  readonly runTimeNs: number;
  readonly runTimeUsPerRequest: number | null;
  /** Memory charged for the maps (memlock), at the end of the window. */
  readonly mapMemoryBytes: Bytes;
  /** How run time was counted: "bpf_stats" or why it could not be. */
  readonly runTimeSource: string;
}

interface ProgCounters {
  readonly runTimeNs: number;
  readonly runCount: number;
}

function field(text: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

/** BPF programs and maps this process holds through file descriptors (programs, links, maps). */
export function ownBpfObjects(fdinfoDir = '/proc/self/fdinfo'): EbpfObjects {
  const progIds = new Set<number>();
  const mapIds = new Set<number>();
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(fdinfoDir);
  } catch {
    return { progIds: [], mapIds: [] };
  }
  for (const fd of fds) {
    let text: string;
    try {
      text = fs.readFileSync(`${fdinfoDir}/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const prog = field(text, 'prog_id');
    if (prog !== undefined) progIds.add(prog);
    const map = field(text, 'map_id');
    if (map !== undefined) mapIds.add(map);
  }
  return { progIds: [...progIds], mapIds: [...mapIds] };
}

/** What appeared since `before` (the data plane's objects, when taken around its installation); null if nothing. */
export function ebpfObjectsSince(before: EbpfObjects, now: EbpfObjects = ownBpfObjects()): EbpfObjects | null {
  const progIds = now.progIds.filter((id) => !before.progIds.includes(id));
  const mapIds = now.mapIds.filter((id) => !before.mapIds.includes(id));
  return progIds.length === 0 && mapIds.length === 0 ? null : { progIds, mapIds };
}

/** Every numeric `id` in a bpftool JSON answer (cgroup tree nests programs under cgroups). */
function idsIn(j: unknown, out: Set<number>): Set<number> {
  if (Array.isArray(j)) for (const x of j) idsIn(x, out);
  else if (j !== null && typeof j === 'object') {
    for (const [k, v] of Object.entries(j)) {
      if (k === 'id' && typeof v === 'number') out.add(v);
      else idsIn(v, out);
    }
  }
  return out;
}

/**
 * The BPF programs of a data plane found from the kernel's side, whatever loaded them (this process, a
 * pinning loader): programs attached anywhere under `cgroupV2Path`, plus every program sharing a map with
 * them (an sk_msg program on the sockhash its sockops program fills), and those programs' maps.
 */
export function ebpfObjectsOfCgroup(cgroupV2Path: string): EbpfObjects | null {
  const attached = idsIn(bpftoolJson(['cgroup', 'tree', cgroupV2Path]), new Set());
  if (attached.size === 0) return null;
  const progs = (bpftoolJson(['prog', 'show']) ?? []) as Array<{ id?: number; map_ids?: number[] }>;
  const mapIds = new Set<number>();
  for (const p of progs) if (p.id !== undefined && attached.has(p.id)) for (const m of p.map_ids ?? []) mapIds.add(m);
  const progIds = new Set(attached);
  for (const p of progs) if (p.id !== undefined && (p.map_ids ?? []).some((m) => mapIds.has(m))) progIds.add(p.id);
  return { progIds: [...progIds], mapIds: [...mapIds] };
}

/** Union of two discoveries (either may be null). */
export function mergeEbpfObjects(a: EbpfObjects | null, b: EbpfObjects | null): EbpfObjects | null {
  if (a === null) return b;
  if (b === null) return a;
  return { progIds: [...new Set([...a.progIds, ...b.progIds])], mapIds: [...new Set([...a.mapIds, ...b.mapIds])] };
}

function bpftoolJson(args: string[]): unknown {
  const r = spawnSync('bpftool', ['--json', ...args], { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    return undefined;
  }
}

function progCounters(id: number): ProgCounters {
  const j = bpftoolJson(['prog', 'show', 'id', String(id)]) as { run_time_ns?: number; run_cnt?: number } | undefined;
  return { runTimeNs: j?.run_time_ns ?? 0, runCount: j?.run_cnt ?? 0 };
}

function mapMemory(id: number): number {
  const j = bpftoolJson(['map', 'show', 'id', String(id)]) as { bytes_memlock?: number } | undefined;
  return j?.bytes_memlock ?? 0;
}

const statsSysctl = '/proc/sys/kernel/bpf_stats_enabled';

/**
 * Measures an eBPF data plane over one window. bpf_stats costs every BPF program on the machine a clock
 * read per run, so it is on only between start and stop, and put back to what it was.
 */
export class EbpfCostMeter {
  private previousStats: string | undefined;
  private startCounters = new Map<number, ProgCounters>();
  private endCounters: Map<number, ProgCounters> | undefined;
  private statsOn = false;
  // A forced exit (second Ctrl-C) skips the runner's clean-up; the sysctl is put back on the way out anyway.
  private readonly onExit = (): void => this.restore();

  constructor(private readonly objects: EbpfObjects) {}

  start(): void {
    try {
      this.previousStats = fs.readFileSync(statsSysctl, 'utf8').trim();
      if (this.previousStats !== '1') fs.writeFileSync(statsSysctl, '1');
      this.statsOn = true;
      process.once('exit', this.onExit);
    } catch {
      this.statsOn = false;
    }
    for (const id of this.objects.progIds) this.startCounters.set(id, progCounters(id));
  }

  /** Reads the counters at the window's end and puts bpf_stats back; only the first call counts. */
  markEnd(): void {
    if (this.endCounters !== undefined) return;
    this.endCounters = new Map(this.objects.progIds.map((id) => [id, progCounters(id)]));
    this.restore();
  }

  stop(requests: number): EbpfCost {
    this.markEnd();
    let runTimeNs = 0;
    let runCount = 0;
    for (const id of this.objects.progIds) {
      const end = this.endCounters?.get(id) ?? progCounters(id);
      const start = this.startCounters.get(id) ?? { runTimeNs: 0, runCount: 0 };
      runTimeNs += Math.max(0, end.runTimeNs - start.runTimeNs);
      runCount += Math.max(0, end.runCount - start.runCount);
    }
    this.restore();
    const mapMemoryBytes = this.objects.mapIds.reduce((a, id) => a + mapMemory(id), 0);
    return {
      programs: this.objects.progIds.length,
      maps: this.objects.mapIds.length,
      runCount,
      runTimeNs,
      runTimeUsPerRequest: this.statsOn && requests > 0 ? runTimeNs / 1000 / requests : null,
      mapMemoryBytes,
      runTimeSource: this.statsOn ? 'bpf_stats (kernel.bpf_stats_enabled on while measuring)' : 'unavailable: kernel.bpf_stats_enabled could not be set',
    };
  }

  /** Puts bpf_stats back; safe to call twice (abort paths). */
  restore(): void {
    process.off('exit', this.onExit);
    if (this.previousStats !== undefined && this.previousStats !== '1') {
      try {
        fs.writeFileSync(statsSysctl, this.previousStats);
      } catch {
        // nothing more to do: the doctor reports the setting
      }
    }
    this.previousStats = undefined;
  }
}
