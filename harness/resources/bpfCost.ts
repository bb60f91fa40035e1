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
  /** Program invocations during the measured window; null when it could not be read (see runTimeSource). */
  readonly runCount: number | null;
  /** Summed run time of the programs over the window; null when not measured, never 0 for "unknown". */
  readonly runTimeNs: number | null;
  readonly runTimeUsPerRequest: number | null;
  /** Memory charged for the maps (memlock), at the end of the window; null when bpftool could not say. */
  readonly mapMemoryBytes: Bytes | null;
  /**
   * How run time was counted: "bpf_stats …"; "unavailable: " and why it could not be; or "none: " when the
   * programs ran 0 times in the window (runTimeUsPerRequest is then null: no run, no run time to divide).
   */
  readonly runTimeSource: string;
  /** null when the map memory was read; otherwise why not. Absent in results written before it existed. */
  readonly mapMemoryUnavailableReason?: string | null;
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

/** Runs `bpftool --json ARGS`: the parsed answer, or why there is none. */
export type BpftoolJson = (args: readonly string[]) => { ok: true; value: unknown } | { ok: false; reason: string };

/** The machine's bpftool. */
export const runBpftoolJson: BpftoolJson = (args) => {
  const r = spawnSync('bpftool', ['--json', ...args], { encoding: 'utf8', timeout: 5000 });
  const cmd = `bpftool ${args.join(' ')}`;
  if (r.error !== undefined) return { ok: false, reason: `${cmd}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'bpftool is not installed (apt-get install bpftool)' : r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `${cmd} exited ${r.status ?? r.signal}: ${(r.stderr.trim().split('\n')[0] ?? '').slice(0, 120)}` };
  try {
    return { ok: true, value: JSON.parse(r.stdout) as unknown };
  } catch {
    return { ok: false, reason: `${cmd}: not JSON` };
  }
};

function bpftoolJson(args: string[]): unknown {
  const r = runBpftoolJson(args);
  return r.ok ? r.value : undefined;
}

/** A program's counters, or why they cannot be read (bpftool failed; no run_time_ns while bpf_stats is on). */
function progCounters(bpftool: BpftoolJson, id: number): ProgCounters | string {
  const r = bpftool(['prog', 'show', 'id', String(id)]);
  if (!r.ok) return r.reason;
  const j = r.value as { run_time_ns?: unknown; run_cnt?: unknown } | null;
  // The kernel reports run_time_ns only once bpf_stats has counted something; 0 runs leaves the fields out.
  const runTimeNs = typeof j?.run_time_ns === 'number' ? j.run_time_ns : 0;
  const runCount = typeof j?.run_cnt === 'number' ? j.run_cnt : 0;
  return { runTimeNs, runCount };
}

function mapMemory(bpftool: BpftoolJson, id: number): number | string {
  const r = bpftool(['map', 'show', 'id', String(id)]);
  if (!r.ok) return r.reason;
  const bytes = (r.value as { bytes_memlock?: unknown } | null)?.bytes_memlock;
  return typeof bytes === 'number' ? bytes : `bpftool map show id ${id}: no bytes_memlock`;
}

const statsSysctl = '/proc/sys/kernel/bpf_stats_enabled';

/** Where the meter reads and writes kernel.bpf_stats_enabled and how it asks bpftool (injected by tests). */
export interface EbpfCostMeterDeps {
  readonly statsSysctlFile: string;
  readonly bpftool: BpftoolJson;
}

/**
 * Measures an eBPF data plane over one window. bpf_stats costs every BPF program on the machine a clock
 * read per run, so it is on only between start and stop, and put back to what it was. A figure that could
 * not be read (bpf_stats could not be switched on, bpftool failed for a program or map) is null with the
 * reason in `runTimeSource` / `mapMemoryUnavailableReason`: a failed read is never reported as 0 µs.
 */
export class EbpfCostMeter {
  private previousStats: string | undefined;
  private startCounters = new Map<number, ProgCounters | string>();
  private endCounters: Map<number, ProgCounters | string> | undefined;
  private statsOn = false;
  private statsReason = '';
  // A forced exit (second Ctrl-C) skips the runner's clean-up; the sysctl is put back on the way out anyway.
  private readonly onExit = (): void => this.restore();

  constructor(private readonly objects: EbpfObjects, private readonly deps: EbpfCostMeterDeps = { statsSysctlFile: statsSysctl, bpftool: runBpftoolJson }) {}

  start(): void {
    try {
      this.previousStats = fs.readFileSync(this.deps.statsSysctlFile, 'utf8').trim();
      if (this.previousStats !== '1') fs.writeFileSync(this.deps.statsSysctlFile, '1');
      this.statsOn = true;
      process.once('exit', this.onExit);
    } catch (err) {
      this.statsOn = false;
      this.statsReason = (err as NodeJS.ErrnoException).code ?? String(err);
    }
    for (const id of this.objects.progIds) this.startCounters.set(id, progCounters(this.deps.bpftool, id));
  }

  /** Reads the counters at the window's end and puts bpf_stats back; only the first call counts. */
  markEnd(): void {
    if (this.endCounters !== undefined) return;
    this.endCounters = new Map(this.objects.progIds.map((id) => [id, progCounters(this.deps.bpftool, id)]));
    this.restore();
  }

  stop(requests: number): EbpfCost {
    this.markEnd();
    let runTimeNs = 0;
    let runCount = 0;
    let failure: string | undefined = this.statsOn ? undefined : `kernel.bpf_stats_enabled could not be set (${this.statsReason})`;
    for (const id of this.objects.progIds) {
      const end = this.endCounters?.get(id) ?? progCounters(this.deps.bpftool, id);
      const start = this.startCounters.get(id) ?? 'not read at the start of the window';
      if (typeof end === 'string' || typeof start === 'string') {
        failure ??= typeof start === 'string' ? start : (end as string);
        continue;
      }
      runTimeNs += Math.max(0, end.runTimeNs - start.runTimeNs);
      runCount += Math.max(0, end.runCount - start.runCount);
    }
    this.restore();
    let mapMemoryBytes: number | null = 0;
    let mapFailure: string | null = null;
    for (const id of this.objects.mapIds) {
      const m = mapMemory(this.deps.bpftool, id);
      if (typeof m === 'string') {
        mapFailure ??= m;
        mapMemoryBytes = null;
      } else if (mapMemoryBytes !== null) mapMemoryBytes += m;
    }
    const measured = failure === undefined;
    // Programs that never ran read 0 ns, which would print as a measured 0 µs per request: the cheapest
    // data plane, when in fact nothing on the request path reached their hooks.
    const ran = measured && runCount > 0;
    const n = this.objects.progIds.length;
    const source = !measured ? `unavailable: ${failure}`
      : ran ? 'bpf_stats (kernel.bpf_stats_enabled on while measuring)'
        : `none: ${n === 0 ? 'no eBPF program was loaded' : `the ${n} eBPF program${n === 1 ? '' : 's'} ran 0 times in the measured window (run count 0): none of their events came in it (sockops and connect hooks run per connection, and kept-alive connections open before the window)`}`;
    return {
      programs: n,
      maps: this.objects.mapIds.length,
      runCount: measured ? runCount : null,
      runTimeNs: measured ? runTimeNs : null,
      runTimeUsPerRequest: ran && requests > 0 ? runTimeNs / 1000 / requests : null,
      mapMemoryBytes,
      runTimeSource: source,
      mapMemoryUnavailableReason: mapFailure,
    };
  }

  /** Puts bpf_stats back; safe to call twice (abort paths). */
  restore(): void {
    process.off('exit', this.onExit);
    if (this.previousStats !== undefined && this.previousStats !== '1') {
      try {
        fs.writeFileSync(this.deps.statsSysctlFile, this.previousStats);
      } catch {
        // nothing more to do: the doctor reports the setting
      }
    }
    this.previousStats = undefined;
  }
}
