import * as bpf from '../../bpf/bpfBindings';
import { requireMeshbenchCgroup, type SteeringBpf } from './steeringLoader';
import { steeringMaps, steeringObjectName, steeringPrograms, type MapEntry, type SteeringMap, type SteeringProgram } from './steeringMaps';

/**
 * Loads bpf/kernelSteering.bpf.c through the native addon. Every attachment is a link held by a file
 * descriptor of this process (nothing pinned): close() releases them, and so does the process dying, even by
 * kill -9 — the kernel then detaches the programs from the pods' cgroups and frees them.
 */
export function openSteeringWithAddon(runCgroupV2Path: string): SteeringBpf {
  const h = bpf.openObject(steeringObjectName);
  try {
    bpf.load(h);
    bpf.attachSkMsg(h, steeringPrograms.skMsg, steeringMaps.sockets);
  } catch (err) {
    bpf.close(h);
    throw err;
  }
  let closed = false;
  return {
    loader: 'addon',
    async attachCgroup(program: SteeringProgram, cgroupV2Path: string): Promise<void> {
      bpf.attachCgroup(h, program, requireMeshbenchCgroup(cgroupV2Path, runCgroupV2Path));
    },
    async update(map: SteeringMap, entry: MapEntry): Promise<void> {
      bpf.mapUpdate(h, map, entry.key, entry.value);
    },
    async dump(map: SteeringMap): Promise<MapEntry[]> {
      return bpf.mapDump(h, map).map(([key, value]) => ({ key, value }));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      bpf.close(h); // destroys the object's links (cgroup and sk_msg) with it
    },
  };
}
