import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError, NotRootError } from './errors';

/**
 * Cgroups that meshbench creates, one per component, under a `meshbench` root in every hierarchy that
 * exists: cgroup v2 (ids for the probes, cpu.stat) and, on hybrid machines, the v1 cpu, cpuacct and memory
 * hierarchies (v2 there has no controllers). Everything lives under `meshbench/` so cleanup finds it by name.
 */
export const cgroupFsRoot = '/sys/fs/cgroup';
export const meshbenchCgroupName = 'meshbench';

export interface CgroupLayout {
  /** The cgroup2 mount: /sys/fs/cgroup on unified machines, /sys/fs/cgroup/unified on hybrid ones. */
  readonly v2Mount: string;
  /** v1 hierarchies by controller name, when mounted (hybrid machines). */
  readonly v1Mounts: Readonly<Partial<Record<'cpu' | 'cpuacct' | 'memory', string>>>;
}

export function detectCgroupLayout(root = cgroupFsRoot): CgroupLayout {
  const v1Mounts: Partial<Record<'cpu' | 'cpuacct' | 'memory', string>> = {};
  let v2Mount: string | undefined;
  let mounts = '';
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    // not Linux: handled below
  }
  for (const line of mounts.split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (mountPoint === undefined || !mountPoint.startsWith(root)) continue;
    if (type === 'cgroup2') v2Mount = mountPoint;
    if (type === 'cgroup') {
      const o = (opts ?? '').split(',');
      for (const c of ['cpu', 'cpuacct', 'memory'] as const) if (o.includes(c) && v1Mounts[c] === undefined) v1Mounts[c] = mountPoint;
    }
  }
  if (v2Mount === undefined) {
    throw new EnvironmentError('no cgroup v2 hierarchy is mounted', 'mount -t cgroup2 none /sys/fs/cgroup/unified (the probes key on cgroup v2 ids)');
  }
  return { v2Mount, v1Mounts };
}

/** One component's cgroup in every hierarchy. */
export interface Cgroup {
  /** Relative name under the meshbench root, e.g. `run-1234/client`. */
  readonly name: string;
  /** cgroup v2 directory. */
  readonly v2Path: string;
  /** cgroup v2 id: the inode of the directory, what bpf_get_current_cgroup_id() returns. */
  readonly id: bigint;
  readonly v1Paths: Readonly<Partial<Record<'cpu' | 'cpuacct' | 'memory', string>>>;
}

const validName = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export class CgroupTree {
  constructor(private readonly layout: CgroupLayout = detectCgroupLayout()) {}

  get root(): string {
    return path.join(this.layout.v2Mount, meshbenchCgroupName);
  }

  /** Creates (or reuses) `meshbench/<name>` in every hierarchy. */
  create(name: string): Cgroup {
    if (!validName.test(name)) throw new EnvironmentError(`invalid cgroup name "${name}"`);
    if (process.getuid !== undefined && process.getuid() !== 0) throw new NotRootError('creating cgroups needs root');
    const v2Path = path.join(this.layout.v2Mount, meshbenchCgroupName, name);
    fs.mkdirSync(v2Path, { recursive: true });
    const v1Paths: Partial<Record<'cpu' | 'cpuacct' | 'memory', string>> = {};
    for (const [controller, mount] of Object.entries(this.layout.v1Mounts) as Array<['cpu' | 'cpuacct' | 'memory', string]>) {
      const p = path.join(mount, meshbenchCgroupName, name);
      fs.mkdirSync(p, { recursive: true });
      v1Paths[controller] = p;
    }
    return { name, v2Path, id: BigInt(fs.statSync(v2Path, { bigint: true }).ino), v1Paths };
  }

  /** Moves a process (and, from then on, its children) into the cgroup in every hierarchy. */
  enter(cgroup: Cgroup, pid: number): void {
    fs.writeFileSync(path.join(cgroup.v2Path, 'cgroup.procs'), String(pid));
    for (const p of Object.values(cgroup.v1Paths)) fs.writeFileSync(path.join(p, 'cgroup.procs'), String(pid));
  }

  /** Pids inside a cgroup (v2 view). */
  pids(cgroup: Cgroup): number[] {
    return readPids(path.join(cgroup.v2Path, 'cgroup.procs'));
  }

  /**
   * Removes `meshbench/<name>` (or the whole meshbench root when name is undefined) in every hierarchy,
   * deepest first, killing what still runs inside. Idempotent; returns the directories removed.
   */
  remove(name?: string): string[] {
    const removed: string[] = [];
    const mounts = [this.layout.v2Mount, ...Object.values(this.layout.v1Mounts)];
    for (const mount of new Set(mounts)) {
      const top = name === undefined ? path.join(mount, meshbenchCgroupName) : path.join(mount, meshbenchCgroupName, name);
      if (!fs.existsSync(top)) continue;
      for (const dir of listDirsDeepestFirst(top)) {
        killAll(dir);
        if (rmdirWithRetry(dir)) removed.push(dir);
      }
    }
    return removed;
  }
}

function listDirsDeepestFirst(top: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
    out.push(dir);
  };
  walk(top);
  return out;
}

function readPids(procsFile: string): number[] {
  try {
    return fs.readFileSync(procsFile, 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}

function killAll(dir: string): void {
  for (const pid of readPids(path.join(dir, 'cgroup.procs'))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function rmdirWithRetry(dir: string): boolean {
  // A killed process leaves its cgroup only once it is reaped: retry briefly instead of failing cleanup.
  for (let attempt = 0; attempt < 200; attempt += 1) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false;
      if (code !== 'EBUSY') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  throw new EnvironmentError(`cgroup ${dir} stays busy`, 'a process inside did not exit; run meshbench cleanup again');
}
