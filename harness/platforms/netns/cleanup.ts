import fs from 'node:fs';
import path from 'node:path';
import { CgroupTree } from '../../cgroupTree';
import { listNetns, removeEmptyMeshbenchRoots, removeNamespaces, requireRoot } from './cluster';
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
  const cgroups = new CgroupTree().remove();
  const namespaces = [...new Set([...(state?.namespaces ?? []), ...listNetns().filter((n) => n.startsWith(namespacePrefix))])];
  const present = new Set(listNetns());
  const removedNs = namespaces.filter((n) => present.has(n));
  await removeNamespaces(removedNs);
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
