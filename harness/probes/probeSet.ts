import * as bpf from '../../bpf/bpfBindings';
import { explainRefusal } from '../../bpf/kernelFeatures';
import { NotRootError } from '../errors';
import type { ProbeName } from '../profile/profileSchema';
import { connectionsProbe } from './connectionsProbe';
import { copyProbe } from './copyProbe';
import { extrasProbe } from './extrasProbe';
import { packetsProbe } from './packetsProbe';
import { mergeParts, type ProbeDefinition, type ProbeTuning, type RecordPart } from './probeDefinition';
import type { CounterSource } from './counterSources';
import { emptyRecord, type ComponentProbeRecord } from './probeRecord';
import type { ResolvedTarget } from './probeTargets';
import { privateNetns } from './probeTargets';
import { schedProbe } from './schedProbe';
import { StackSampler } from './stackSampler';
import { syscallsProbe } from './syscallsProbe';
import { encodeRegistry, type RegistryEntry } from './registry';
import { checkSliceSpec, realTimers, TimeSlicer, type SliceSpec, type SliceTimers } from './timeSlicer';

export const probeDefinitions: Readonly<Record<ProbeName, ProbeDefinition>> = {
  copy: copyProbe,
  connections: connectionsProbe,
  sched: schedProbe,
  syscalls: syscallsProbe,
  packets: packetsProbe,
};

/**
 * `full`: every probe on every hook, each event counted (what `meshbench probe` uses). `lean`: the hooks that
 * run per request are cut to what no kernel counter replaces: packets, context switches, retransmits and
 * resets sent come from the counters the kernel keeps per namespace and per thread, bytes copied from the
 * receive lengths, syscalls from time slices (see README, "What the probes cost").
 */
export type HookSet = 'full' | 'lean';

/** The lean set's syscall slices: 50 ms of every 400 ms (12.5 %), about 7 slices in a 3 s step. */
export const defaultSyscallSlices: SliceSpec = { onMs: 50, periodMs: 400 };

export interface ProbeSetOptions {
  /** Default `full`. */
  readonly hooks?: HookSet;
  /** Lean set only: how the syscall hook is sliced (default defaultSyscallSlices). */
  readonly syscallSlices?: SliceSpec;
  /** Injected for tests of the slicing. */
  readonly timers?: SliceTimers;
  /** Default: every probe. */
  readonly probes?: readonly ProbeName[];
  /** cpu-clock stack sampling frequency; 0 or undefined = off. */
  readonly sampleHz?: number;
  /** Try the kprobe/fentry extras (default true); refused ones are reported, never fatal. */
  readonly extras?: boolean;
  /** Time per syscall too (opt-in: it doubles the syscall probe's cost). */
  readonly syscallTime?: boolean;
  /** Injected for tests of the "not root" path. */
  readonly isRoot?: () => boolean;
}

/** What each probe hooked, or why it is not there. */
export interface ProbeStatus {
  readonly name: string;
  readonly available: boolean;
  readonly hook: string | null;
  readonly reason: string | null;
}

interface LoadedProbe {
  readonly def: ProbeDefinition;
  readonly h: bpf.ObjectHandle;
  readonly programs: readonly string[];
  readonly hook: string;
  /** program -> section, e.g. "tp_btf/sys_exit". */
  readonly sections: ReadonlyMap<string, string>;
}

/** What one probe attached in the current (or last) session, and what it read instead. */
export interface ProbePlan {
  readonly probe: string;
  /** Sections attached for the whole window, e.g. "tp_btf/sock_send_length". */
  readonly hooks: readonly string[];
  /** Sections attached in time slices. */
  readonly slicedHooks: readonly string[];
  /** The kernel-counter source read instead of hooks, or null. */
  readonly source: string | null;
  /** Why the lean plan's source could not be used this session (all hooks attached instead), or null. */
  readonly fellBack: string | null;
}

interface ActivePlan {
  readonly loaded: LoadedProbe;
  readonly programs: readonly string[];
  readonly sliced: readonly string[];
  readonly source: CounterSource | null;
  readonly fellBack: string | null;
  slicer: TimeSlicer | null;
  sliceLinks: bpf.LinkHandle[];
  countedShare: number;
}

export interface ProbeReading {
  readonly components: Record<string, ComponentProbeRecord>;
  readonly foldedStacks: Record<string, string>;
}


function openVariant(object: string, programs: readonly string[], trialAttach: boolean, rodata: Readonly<Record<string, Buffer>> = {}): bpf.ObjectHandle {
  const h = bpf.openObject(object);
  try {
    for (const [name, value] of Object.entries(rodata)) bpf.setRodata(h, name, value);
    for (const p of bpf.describeObject(h).programs) bpf.setAutoload(h, p.name, programs.includes(p.name));
    bpf.load(h);
    if (trialAttach) {
      // kprobes load fine and fail at attach: find out now, not in the middle of a measurement.
      const links: bpf.LinkHandle[] = [];
      try {
        for (const p of programs) links.push(bpf.attach(h, p));
      } finally {
        for (const l of links) bpf.detach(l);
      }
    }
    return h;
  } catch (err) {
    bpf.close(h);
    throw err;
  }
}

/**
 * The probes' BPF objects, loaded once (verification is the slow part) and attached per measurement:
 * begin() registers the measured cgroups and attaches, end() detaches and reads. close() releases all.
 */
export class ProbeSet {
  private readonly loaded: LoadedProbe[] = [];
  private readonly statuses: ProbeStatus[] = [];
  /** Attached programs with their hook (section), e.g. "tp_btf/sys_exit". */
  private links: Array<{ link: bpf.LinkHandle; hook: string }> = [];
  private stacks: { h: bpf.ObjectHandle; sampler: StackSampler } | undefined;
  private targets: readonly ResolvedTarget[] = [];
  private readonly sampleHz: number;
  private readonly tuning: ProbeTuning;
  private readonly hooks: HookSet;
  private readonly slices: SliceSpec;
  private readonly timers: SliceTimers;
  private plans: ActivePlan[] = [];
  private active = false;

  constructor(options: ProbeSetOptions = {}) {
    const isRoot = options.isRoot ?? (() => process.getuid?.() === 0);
    if (!isRoot()) throw new NotRootError('the probes load eBPF programs');
    this.sampleHz = options.sampleHz ?? 0;
    this.tuning = { syscallTime: options.syscallTime ?? false };
    this.hooks = options.hooks ?? 'full';
    this.slices = options.syscallSlices ?? defaultSyscallSlices;
    checkSliceSpec(this.slices);
    this.timers = options.timers ?? realTimers;
    const names = options.probes ?? (Object.keys(probeDefinitions) as ProbeName[]);
    try {
      for (const name of names) this.loadProbe(probeDefinitions[name]);
      if (options.extras ?? true) this.loadProbe(extrasProbe);
      if (this.sampleHz > 0) {
        const h = openVariant('stacks', ['mb_sample'], false);
        this.stacks = { h, sampler: new StackSampler(h) };
        this.statuses.push({ name: 'stacks', available: true, hook: `perf_event cpu-clock ${this.sampleHz} Hz`, reason: null });
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private loadProbe(def: ProbeDefinition): void {
    const failures: string[] = [];
    for (const v of def.variants) {
      try {
        const tuned = def.tune?.(this.tuning) ?? { programs: [], rodata: {} };
        const programs = [...v.programs, ...tuned.programs];
        const h = openVariant(def.object, programs, def.optional, tuned.rodata);
        const hook = tuned.programs.length > 0 ? `${v.hook} + ${tuned.programs.join(', ')}` : v.hook;
        this.loaded.push({ def, h, programs, hook, sections: new Map(bpf.describeObject(h).programs.map((p) => [p.name, p.section])) });
        this.statuses.push({ name: def.name, available: true, hook, reason: failures.length > 0 ? `fell back: ${failures.join('; ')}` : null });
        return;
      } catch (err) {
        if (!def.optional && v === def.variants[def.variants.length - 1]) throw err;
        failures.push(`${v.hook.split(' ')[0] ?? v.hook}: ${explainRefusal(v.hook, err)}`);
      }
    }
    this.statuses.push({ name: def.name, available: false, hook: null, reason: `unavailable: ${failures.join('; ')}` });
  }

  status(): readonly ProbeStatus[] {
    return this.statuses;
  }

  /** The hook set this set attaches. */
  hookSet(): HookSet {
    return this.hooks;
  }

  private planFor(l: LoadedProbe, targets: readonly ResolvedTarget[], session: { readonly privateNetns: boolean }): ActivePlan {
    const wanted = l.programs.filter((p) => l.def.needed?.(p, session) ?? true);
    const lean = this.hooks === 'lean' ? l.def.lean : undefined;
    const base = { loaded: l, slicer: null, sliceLinks: [], countedShare: 1 };
    if (lean === undefined) return { ...base, programs: wanted, sliced: [], source: null, fellBack: null };
    const source: CounterSource | null = lean.source?.() ?? null;
    const reason = source?.unusable(targets) ?? null;
    // A source that cannot read every target: the hooks measure this session instead, and the plan says why.
    if (reason !== null) return { ...base, programs: wanted, sliced: [], source: null, fellBack: reason };
    const chosen = wanted.filter((p) => lean.programs.includes(p));
    const sliced = this.tuning.syscallTime ? [] : chosen.filter((p) => lean.sliced?.includes(p) ?? false);
    return { ...base, programs: chosen.filter((p) => !sliced.includes(p)), sliced, source, fellBack: null };
  }

  /** Registers the targets' cgroups (and private network namespaces), clears old counts, attaches. */
  begin(targets: readonly ResolvedTarget[]): void {
    if (this.active) this.end();
    this.targets = targets;
    const entries = targets.map((t) => ({ cgroupId: t.cgroupId, netns: privateNetns(t) }));
    try {
      for (const l of this.loaded) for (const m of l.def.statsMaps) bpf.mapClear(l.h, m);
      this.writeRegistry(entries);
      this.active = true;
      const session = { privateNetns: entries.some((e) => e.netns !== null) };
      this.plans = this.loaded.map((l) => this.planFor(l, targets, session));
      // Counters first, hooks after: reading /proc must not fall inside what the hooks count.
      for (const p of this.plans) p.source?.begin(targets);
      for (const p of this.plans) {
        for (const program of p.programs) {
          this.links.push({ link: bpf.attach(p.loaded.h, program), hook: p.loaded.sections.get(program) ?? program });
        }
      }
      for (const p of this.plans) {
        if (p.sliced.length === 0) continue;
        const plan = p;
        plan.slicer = new TimeSlicer(this.slices, () => {
          for (const program of plan.sliced) plan.sliceLinks.push(bpf.attach(plan.loaded.h, program));
        }, () => {
          for (const link of plan.sliceLinks.splice(0)) bpf.detach(link);
        }, this.timers);
        plan.slicer.start();
      }
      this.stacks?.sampler.start(this.sampleHz);
    } catch (err) {
      this.detachAll();
      this.active = false;
      throw err;
    }
  }

  /** Per probe: what the current (or last) session attached, sliced and read instead. */
  plan(): ProbePlan[] {
    return this.plans.map((p) => ({
      probe: p.loaded.def.name,
      hooks: p.programs.map((program) => p.loaded.sections.get(program) ?? program),
      slicedHooks: p.sliced.map((program) => p.loaded.sections.get(program) ?? program),
      source: p.source?.name ?? null,
      fellBack: p.fellBack,
    }));
  }

  private objects(): bpf.ObjectHandle[] {
    return [...this.loaded.map((l) => l.h), ...(this.stacks === undefined ? [] : [this.stacks.h])];
  }

  private writeRegistry(entries: readonly RegistryEntry[]): void {
    const zeroKey = Buffer.alloc(4);
    for (const h of this.objects()) {
      const bss = bpf.mapLookup(h, '.bss', zeroKey);
      if (bss === null) throw new Error('probe object without a .bss registry');
      bpf.mapUpdate(h, '.bss', zeroKey, encodeRegistry(entries, bss));
    }
  }

  /** The sections (hooks) of the programs attached for the whole window now, e.g. "tp_btf/sys_exit". */
  attachedHooks(): readonly string[] {
    return this.links.map((l) => l.hook);
  }

  private detachAll(): void {
    for (const p of this.plans) {
      if (p.slicer !== null) p.countedShare = p.slicer.stop().share;
      p.slicer = null;
      for (const link of p.sliceLinks.splice(0)) bpf.detach(link);
    }
    for (const l of this.links) bpf.detach(l.link);
    this.links = [];
    this.stacks?.sampler.stop();
  }

  /** Detaches, then reads every probe's maps into one record per target. */
  end(): ProbeReading {
    this.detachAll();
    if (!this.active) return { components: {}, foldedStacks: {} };
    this.active = false;
    const cpus = bpf.numPossibleCpus();
    const slots = this.targets.map((t) => t.cgroupId);
    const parts = new Map<string, RecordPart[]>();
    const add = (cg: string, part: RecordPart): void => {
      const list = parts.get(cg) ?? [];
      parts.set(cg, list);
      list.push(part);
    };
    for (const p of this.plans) {
      const l = p.loaded;
      const context = { attached: new Set([...p.programs, ...p.sliced]), countedShare: p.countedShare };
      for (const [cg, part] of l.def.decode((m) => bpf.mapDump(l.h, m), cpus, slots, this.tuning, context)) add(cg, part);
      // The source's figures override what the (unattached) hooks' maps hold.
      if (p.source !== null) for (const [cg, part] of p.source.end()) add(cg, part);
    }
    const stacks = this.stacks?.sampler.read();
    const components: Record<string, ComponentProbeRecord> = {};
    const foldedStacks: Record<string, string> = {};
    for (const t of this.targets) {
      const id = t.cgroupId.toString();
      const record = mergeParts(emptyRecord(id), parts.get(id) ?? []);
      components[t.name] = { ...record, samples: stacks?.samples.get(id) ?? 0 };
      const folded = stacks?.folded.get(id);
      if (folded !== undefined) foldedStacks[t.name] = folded;
    }
    this.writeRegistry([]);
    return { components, foldedStacks };
  }

  /** The kernel's run time per loaded program (non-zero only while bpf.enableStats() is held). */
  programCosts(): Array<{ probe: string; program: string; runTimeNs: number; runCount: number }> {
    const objects: Array<[string, bpf.ObjectHandle]> = [...this.loaded.map((l): [string, bpf.ObjectHandle] => [l.def.name, l.h]), ...(this.stacks === undefined ? [] : [['stacks', this.stacks.h] as [string, bpf.ObjectHandle]])];
    const out: Array<{ probe: string; program: string; runTimeNs: number; runCount: number }> = [];
    for (const [probe, h] of objects) {
      for (const s of bpf.programStats(h)) out.push({ probe, program: s.name, runTimeNs: Number(s.runTimeNs), runCount: Number(s.runCount) });
    }
    return out;
  }

  /** Releases every link, perf fd and object. Idempotent. */
  close(): void {
    this.detachAll();
    for (const l of this.loaded.splice(0)) bpf.close(l.h);
    if (this.stacks !== undefined) bpf.close(this.stacks.h);
    this.stacks = undefined;
    this.active = false;
  }
}
