import type { CounterSource } from './counterSources';
import type { ComponentProbeRecord } from './probeRecord';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type RecordPart = Partial<Mutable<ComponentProbeRecord>>;

/** One way to hook a probe: tried in order until one loads (tp_btf first, raw_tp where BTF tracepoints are missing). */
export interface ProbeVariant {
  readonly hook: string;
  readonly programs: readonly string[];
}

/** Options that change what a probe loads (more detail, more cost). */
export interface ProbeTuning {
  /** Time per syscall (adds sys_enter and a per-task timestamp: about twice the syscall probe's cost). */
  readonly syscallTime: boolean;
}

/**
 * The probe in the lean hook set (instrumented runs): attach only `programs` (names of any variant), read the
 * rest from kernel counters (`source`), and run `sliced` programs in time slices. When the source cannot read a
 * session's targets, the probe attaches all its programs for that session instead.
 */
export interface LeanPlan {
  readonly programs: readonly string[];
  readonly source?: () => CounterSource;
  /** Attach these in time slices (bpf/timeSlicer.ts) unless the tuning needs every event (syscall time). */
  readonly sliced?: readonly string[];
}

/** What a session attached, for decode: programs attached, and the share of the window sliced ones ran. */
export interface DecodeContext {
  readonly attached: ReadonlySet<string>;
  /** 1 when nothing was sliced. */
  readonly countedShare: number;
}

/** One probe concern: its BPF object (bpf/<object>.bpf.c), how to hook it, and how to read its maps. */
export interface ProbeDefinition {
  readonly name: string;
  readonly object: string;
  readonly variants: readonly ProbeVariant[];
  /** Maps holding the measurement, cleared when a session starts. */
  readonly statsMaps: readonly string[];
  /** A probe the kernel may refuse (kprobe/fentry): reported unavailable, never fatal. */
  readonly optional: boolean;
  /** Programs worth attaching only in some sessions (receive-side packets need a private netns). */
  needed?(program: string, session: { readonly privateNetns: boolean }): boolean;
  /** The lean hook set's plan; without one, the probe attaches everything in both sets. */
  readonly lean?: LeanPlan;
  /** Extra programs and rodata for the given tuning. */
  tune?(tuning: ProbeTuning): { readonly programs: readonly string[]; readonly rodata: Readonly<Record<string, Buffer>> };
  /** slots: the cgroup id of each registry slot (bpf/registry.h), as the session registered them. */
  decode(dump: (map: string) => Array<[Buffer, Buffer]>, cpus: number, slots: readonly bigint[], tuning?: ProbeTuning, context?: DecodeContext): Map<string, RecordPart>;
}

export function partFor(parts: Map<string, RecordPart>, cgroupId: string): RecordPart {
  let p = parts.get(cgroupId);
  if (p === undefined) {
    p = {};
    parts.set(cgroupId, p);
  }
  return p;
}

/**
 * One record from the parts the probes and sources decoded for a cgroup, in order (later parts win a field);
 * `sources` and `unmeasured` are merged key by key.
 */
export function mergeParts(base: ComponentProbeRecord, parts: readonly RecordPart[]): ComponentProbeRecord {
  const sources: Record<string, string> = { ...base.sources };
  const unmeasured: Record<string, string> = { ...base.unmeasured };
  const out = Object.assign({}, base, ...parts) as Mutable<ComponentProbeRecord>;
  for (const p of parts) {
    Object.assign(sources, p.sources ?? {});
    Object.assign(unmeasured, p.unmeasured ?? {});
  }
  out.sources = sources;
  out.unmeasured = unmeasured;
  return out;
}
