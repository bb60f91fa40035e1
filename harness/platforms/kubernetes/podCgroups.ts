import fs from 'node:fs';
import path from 'node:path';

/*
 * Where the kubelet put a pod's containers in the node's cgroup v2 tree, found from the pod UID and the
 * container IDs the API reports (status.containerStatuses[].containerID, "containerd://<id>"). Both cgroup
 * drivers are covered:
 *   systemd   kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope
 *   cgroupfs  kubepods/burstable/pod<uid>/<id>
 * (Guaranteed pods sit directly under kubepods; CRI-O names scopes crio-<id>.scope, Docker docker-<id>.scope.)
 */

export interface ContainerCgroup {
  readonly container: string;
  /** Absolute cgroup v2 directory. */
  readonly v2Path: string;
}

/** "containerd://abc…" → "abc…". */
export function containerIdOf(statusContainerId: string): string {
  const i = statusContainerId.indexOf('://');
  return i < 0 ? statusContainerId : statusContainerId.slice(i + 3);
}

/** Pure: does a cgroup directory name belong to this pod? */
export function isPodDir(name: string, podUid: string): boolean {
  const plain = `pod${podUid}`;
  const systemd = `pod${podUid.replace(/-/g, '_')}.slice`;
  return name === plain || name.endsWith(`-${systemd}`) || name === systemd;
}

/** Pure: does a cgroup directory name hold this container? */
export function isContainerDir(name: string, containerId: string): boolean {
  return name === containerId || (name.endsWith('.scope') && name.slice(0, -'.scope'.length).split('-').pop() === containerId);
}

/** The pod's cgroup directory under the kubepods tree (at most three levels down), or null. */
export function findPodCgroup(cgroupRoot: string, podUid: string): string | null {
  const roots = ['kubepods.slice', 'kubepods'].map((d) => path.join(cgroupRoot, d)).filter((d) => fs.existsSync(d));
  const walk = (dir: string, depth: number): string | null => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    for (const e of entries) if (e.isDirectory() && isPodDir(e.name, podUid)) return path.join(dir, e.name);
    if (depth === 0) return null;
    for (const e of entries) {
      if (!e.isDirectory() || !(e.name.startsWith('kubepods') || ['burstable', 'besteffort'].includes(e.name))) continue;
      const found = walk(path.join(dir, e.name), depth - 1);
      if (found !== null) return found;
    }
    return null;
  };
  for (const r of roots) {
    const found = walk(r, 2);
    if (found !== null) return found;
  }
  return null;
}

/** The containers' directories inside a pod's cgroup; containers not found are left out. */
export function containerCgroups(podDir: string, containers: ReadonlyArray<{ name: string; containerId: string }>): ContainerCgroup[] {
  let names: string[];
  try {
    names = fs.readdirSync(podDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
  const out: ContainerCgroup[] = [];
  for (const c of containers) {
    const dir = names.find((n) => isContainerDir(n, c.containerId));
    if (dir !== undefined) out.push({ container: c.name, v2Path: path.join(podDir, dir) });
  }
  return out;
}
