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
  /** Extra programs and rodata for the given tuning. */
  tune?(tuning: ProbeTuning): { readonly programs: readonly string[]; readonly rodata: Readonly<Record<string, Buffer>> };
  /** slots: the cgroup id of each registry slot (bpf/registry.h), as the session registered them. */
  decode(dump: (map: string) => Array<[Buffer, Buffer]>, cpus: number, slots: readonly bigint[], tuning?: ProbeTuning): Map<string, RecordPart>;
}

export function partFor(parts: Map<string, RecordPart>, cgroupId: string): RecordPart {
  let p = parts.get(cgroupId);
  if (p === undefined) {
    p = {};
    parts.set(cgroupId, p);
  }
  return p;
}
