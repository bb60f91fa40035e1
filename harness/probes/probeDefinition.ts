import type { ComponentProbeRecord } from './probeRecord';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type RecordPart = Partial<Mutable<ComponentProbeRecord>>;

/** One way to hook a probe: tried in order until one loads (tp_btf first, raw_tp where BTF tracepoints are missing). */
export interface ProbeVariant {
  readonly hook: string;
  readonly programs: readonly string[];
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
  /** slots: the cgroup id of each registry slot (bpf/registry.h), as the session registered them. */
  decode(dump: (map: string) => Array<[Buffer, Buffer]>, cpus: number, slots: readonly bigint[]): Map<string, RecordPart>;
}

export function partFor(parts: Map<string, RecordPart>, cgroupId: string): RecordPart {
  let p = parts.get(cgroupId);
  if (p === undefined) {
    p = {};
    parts.set(cgroupId, p);
  }
  return p;
}
