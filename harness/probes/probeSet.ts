import * as bpf from '../../bpf/bpfBindings';
import { explainRefusal } from '../../bpf/kernelFeatures';
import { NotRootError } from '../errors';
import type { ProbeName } from '../profile/profileSchema';
import { connectionsProbe } from './connectionsProbe';
import { copyProbe } from './copyProbe';
import { extrasProbe } from './extrasProbe';
import { packetsProbe } from './packetsProbe';
import type { ProbeDefinition, ProbeTuning, RecordPart } from './probeDefinition';
import { emptyRecord, type ComponentProbeRecord } from './probeRecord';
import type { ResolvedTarget } from './probeTargets';
import { privateNetns } from './probeTargets';
import { schedProbe } from './schedProbe';
import { StackSampler } from './stackSampler';
import { syscallsProbe } from './syscallsProbe';
import { encodeRegistry, type RegistryEntry } from './registry';

export const probeDefinitions: Readonly<Record<ProbeName, ProbeDefinition>> = {
  copy: copyProbe,
  connections: connectionsProbe,
  sched: schedProbe,
  syscalls: syscallsProbe,
  packets: packetsProbe,
};

export interface ProbeSetOptions {
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
  private active = false;

  constructor(options: ProbeSetOptions = {}) {
    const isRoot = options.isRoot ?? (() => process.getuid?.() === 0);
    if (!isRoot()) throw new NotRootError('the probes load eBPF programs');
    this.sampleHz = options.sampleHz ?? 0;
    this.tuning = { syscallTime: options.syscallTime ?? false };
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
      for (const l of this.loaded) {
        for (const p of l.programs) {
          if (!(l.def.needed?.(p, session) ?? true)) continue;
          this.links.push({ link: bpf.attach(l.h, p), hook: l.sections.get(p) ?? p });
        }
      }
      this.stacks?.sampler.start(this.sampleHz);
    } catch (err) {
      this.detachAll();
      this.active = false;
      throw err;
    }
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

  /** The sections (hooks) of the programs attached now, e.g. "tp_btf/sys_exit". */
  attachedHooks(): readonly string[] {
    return this.links.map((l) => l.hook);
  }

  private detachAll(): void {
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
    for (const l of this.loaded) {
      for (const [cg, part] of l.def.decode((m) => bpf.mapDump(l.h, m), cpus, slots, this.tuning)) {
        const list = parts.get(cg) ?? [];
        parts.set(cg, list);
        list.push(part);
      }
    }
    const stacks = this.stacks?.sampler.read();
    const components: Record<string, ComponentProbeRecord> = {};
    const foldedStacks: Record<string, string> = {};
    for (const t of this.targets) {
      const id = t.cgroupId.toString();
      const record = Object.assign({}, emptyRecord(id), ...(parts.get(id) ?? [])) as ComponentProbeRecord;
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
