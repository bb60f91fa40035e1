import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors';

/** A component to measure: a name and its cgroup v2 id or directory (or both). */
export interface ProbeTarget {
  readonly name: string;
  readonly cgroupId?: bigint | string;
  readonly v2Path?: string;
}

export interface ResolvedTarget {
  readonly name: string;
  readonly cgroupId: bigint;
  readonly v2Path: string | null;
}

/** The cgroup id is the inode of the cgroup v2 directory (what bpf_get_current_cgroup_id() returns). */
export function resolveTarget(t: ProbeTarget): ResolvedTarget {
  if (t.v2Path !== undefined) {
    let ino: bigint;
    try {
      ino = fs.statSync(t.v2Path, { bigint: true }).ino;
    } catch {
      throw new BadInputError(`unknown cgroup path ${t.v2Path} (component ${t.name})`, 'give an existing cgroup v2 directory');
    }
    if (!fs.existsSync(path.join(t.v2Path, 'cgroup.procs'))) {
      throw new BadInputError(`${t.v2Path} is not a cgroup directory (component ${t.name})`, 'give a directory under the cgroup v2 mount');
    }
    if (t.cgroupId !== undefined && BigInt(t.cgroupId) !== ino) {
      throw new BadInputError(`cgroup id ${String(t.cgroupId)} of ${t.name} is not the id of ${t.v2Path} (${ino})`);
    }
    return { name: t.name, cgroupId: ino, v2Path: t.v2Path };
  }
  if (t.cgroupId === undefined) throw new BadInputError(`component ${t.name} has neither a cgroup id nor a cgroup path`);
  let id: bigint;
  try {
    id = BigInt(t.cgroupId);
  } catch {
    throw new BadInputError(`cgroup id of ${t.name} must be a number, got "${String(t.cgroupId)}"`);
  }
  if (id <= 0n) throw new BadInputError(`cgroup id of ${t.name} must be positive, got ${id}`);
  return { name: t.name, cgroupId: id, v2Path: null };
}

export function resolveTargets(targets: readonly ProbeTarget[]): ResolvedTarget[] {
  const out = targets.map(resolveTarget);
  const names = new Set<string>();
  for (const t of out) {
    if (names.has(t.name)) throw new BadInputError(`component name ${t.name} is given twice`);
    names.add(t.name);
  }
  return out;
}

function netnsInode(pid: number | 'self'): number | null {
  try {
    return Number(fs.statSync(`/proc/${pid}/ns/net`).ino);
  } catch {
    return null;
  }
}

/**
 * The network namespace a cgroup's processes live in, when it is not the host's: receive-side packets are
 * attributed by namespace, and registering the host's would count the whole machine.
 */
export function privateNetns(t: ResolvedTarget): number | null {
  if (t.v2Path === null) return null;
  let pids: number[] = [];
  try {
    pids = fs.readFileSync(path.join(t.v2Path, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return null;
  }
  const host = netnsInode(1) ?? netnsInode('self');
  for (const pid of pids) {
    const ns = netnsInode(pid);
    if (ns !== null) return ns === host ? null : ns;
  }
  return null;
}
