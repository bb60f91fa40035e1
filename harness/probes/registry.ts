import { BadInputError } from '../errors';

/*
 * bpf/registry.h: the measured cgroups, written into every probe object's .bss before attaching. The kernel
 * side finds a cgroup's slot with a few compares; hot-path counters are per-CPU arrays indexed by slot.
 */
export const registrySlots = 32;
const idsOffset = 0;
const netnsOffset = registrySlots * 8;
const countOffset = netnsOffset + registrySlots * 4;
export const registryBytes = countOffset + 8;

export interface RegistryEntry {
  readonly cgroupId: bigint;
  /** Private network namespace inode (receive-side packets), or null. */
  readonly netns: number | null;
}

/** Writes the registry over the first bytes of a .bss value (the rest of .bss is left as it is). */
export function encodeRegistry(entries: readonly RegistryEntry[], bss: Buffer): Buffer {
  if (entries.length > registrySlots) throw new BadInputError(`the probes measure at most ${registrySlots} cgroups at once, got ${entries.length}`);
  if (bss.length < registryBytes) throw new RangeError(`.bss of ${bss.length} bytes cannot hold the registry (${registryBytes})`);
  const out = Buffer.from(bss);
  out.fill(0, 0, registryBytes);
  entries.forEach((e, i) => {
    out.writeBigUInt64LE(e.cgroupId, idsOffset + i * 8);
    out.writeUInt32LE(e.netns ?? 0, netnsOffset + i * 4);
  });
  out.writeUInt32LE(entries.length, countOffset);
  out.writeUInt32LE(entries.filter((e) => e.netns !== null).length, countOffset + 4);
  return out;
}

/** The cgroup id of a slot-indexed array entry, or undefined for unused slots. */
export function slotCgroup(slots: readonly bigint[], index: number): string | undefined {
  return slots[index]?.toString();
}
