import path from 'node:path';
import { EnvironmentError } from '../errors';
import type { MapEntry, SteeringMap, SteeringProgram } from './steeringMaps';

/**
 * bpf/kernelSteering.bpf.c, loaded: what the kernel data planes need of it (the native addon provides it; tests
 * may stand in for it). The sk_msg program is attached to mb_sockets on open.
 */
export interface SteeringBpf {
  /** How it was loaded, reported in the run's versions. */
  readonly loader: string;
  /** Attaches a cgroup program (connect4, sockops) to a cgroup meshbench created; see requireMeshbenchCgroup. */
  attachCgroup(program: SteeringProgram, cgroupV2Path: string): Promise<void>;
  update(map: SteeringMap, entry: MapEntry): Promise<void>;
  dump(map: SteeringMap): Promise<MapEntry[]>;
  /** Detaches everything and releases programs and maps. Idempotent. */
  close(): Promise<void>;
}

/**
 * The one place that decides where the kernel data plane may attach: only to a cgroup below the run's own
 * folder of meshbench's cgroup root (never the root itself, never a cgroup of something else on the machine).
 */
export function requireMeshbenchCgroup(cgroupV2Path: string, runCgroupV2Path: string): string {
  const resolved = path.resolve(cgroupV2Path);
  const runRoot = path.resolve(runCgroupV2Path);
  if (!resolved.startsWith(`${runRoot}${path.sep}`)) {
    throw new EnvironmentError(`refusing to attach a BPF program to ${resolved}: it is not a cgroup of this meshbench run (${runRoot})`);
  }
  return resolved;
}
