import fs from 'node:fs';
import path from 'node:path';
import { CgroupTree, detectCgroupLayout, meshbenchCgroupName } from '../../cgroupTree';
import { perfMapFile } from '../../probes/userSymbols';
import { listNetns, netnsPids, removeEmptyMeshbenchRoots, removeNamespaces, requireRoot } from './cluster';
import { namespacePrefix } from './addressPlan';
import { defaultStateDir, readState, removeState } from './stateFile';

/** The only place meshbench may pin BPF objects (nothing does today: links are held by file descriptors); cleanup removes the whole folder. */
export const bpfPinRoot = '/sys/fs/bpf/meshbench';

export interface CleanupReport {
  readonly previousRun: string | null;
  readonly namespaces: readonly string[];
  readonly cgroups: readonly string[];
  readonly bpfPins: readonly string[];
  readonly folders: readonly string[];
}

/**
 * Removes everything meshbench creates on this machine, from the state file and by name: processes (by
 * killing what is in the meshbench cgroups and in mb-* namespaces), mb-* namespaces (with their veths,
 * bridges and iptables rules: meshbench never touches the root namespace), meshbench cgroups, bpffs pins
 * (pinned links detach their programs; unpinned links died with their process, and cgroups that are removed
 * take their attachments with them), work folders, the state file. Idempotent.
 */
export async function cleanupEverything(stateDir = defaultStateDir): Promise<CleanupReport> {
  requireRoot();
  const state = readState(stateDir);
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...listNetns().filter((n) => n.startsWith(namespacePrefix))])];
  const present = new Set(listNetns());
  const removedNs = namespaces.filter((n) => present.has(n));
  // The Node processes meshbench starts write /tmp/perf-PID.map (harness/probes/userSymbols.ts); a meshbench
  // killed with -9 could not remove them, so they go with their processes.
  const pids = [...meshbenchCgroupPids(), ...removedNs.flatMap((n) => netnsPids(n))];
  const cgroups = new CgroupTree().remove();
  await removeNamespaces(removedNs);
  for (const pid of new Set(pids)) fs.rmSync(perfMapFile(pid), { force: true });
  const bpfPins: string[] = [];
  for (const pin of [...(state?.bpfPins ?? []), bpfPinRoot]) {
    if (fs.existsSync(pin)) {
      fs.rmSync(pin, { recursive: true, force: true });
      bpfPins.push(pin);
    }
  }
  const folders: string[] = [];
  const workDirs = new Set<string>();
  if (state !== undefined && state.workDir !== '') workDirs.add(state.workDir);
  try {
    for (const e of fs.readdirSync(stateDir)) if (e.startsWith('run-')) workDirs.add(path.join(stateDir, e));
  } catch {
    // no state folder
  }
  for (const d of workDirs) {
    if (fs.existsSync(d)) {
      fs.rmSync(d, { recursive: true, force: true });
      folders.push(d);
    }
  }
  removeState(stateDir);
  removeEmptyMeshbenchRoots();
  return { previousRun: state?.runId ?? null, namespaces: removedNs, cgroups, bpfPins, folders };
}

/** Pids in the meshbench cgroup v2 tree, at any depth (none when there is no v2 hierarchy or no tree). */
function meshbenchCgroupPids(): number[] {
  const pids: number[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try {
      for (const l of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (l !== '') pids.push(Number(l));
    } catch {
      // not a cgroup directory
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  const v2 = detectCgroupLayout().v2Mount;
  if (v2 !== '') walk(path.join(v2, meshbenchCgroupName));
  return pids;
}
