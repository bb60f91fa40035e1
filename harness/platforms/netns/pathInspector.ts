import fs from 'node:fs';
import path from 'node:path';
import type { Cluster } from './cluster';
import {
  connectionsOnPath, netnsInode, orderPath, pairConnections, readTcp, socketInodes, tcpEstablished, tcpListen, type Connection, type OwnedSocket,
} from './procNet';

export interface PathReport {
  /** Established connections between cluster components, in path order from the client. */
  readonly connections: readonly Connection[];
  /** The chain from the client over distinct component pairs (pooled idle connections do not count). */
  readonly connectionsOnPath: number;
  /** Component names in the order the request passed them. */
  readonly hops: readonly string[];
}

/**
 * Counts the TCP connections currently established between the cluster's components, read from each
 * component namespace's /proc/<pid>/net/tcp and attributed to components through /proc/<pid>/fd. Called
 * while a client holds one kept-alive connection after a request, it gives the connections on that path.
 */
export function inspectPath(cluster: Cluster, startComponent: string): PathReport {
  const sockets: OwnedSocket[] = [];
  const listening = new Map<string, Set<number>>();
  const seenNetns = new Map<string, { established: Map<number, { local: string; remote: string }> }>();
  for (const c of cluster.componentList()) {
    const pids = readPids(path.join(c.cgroup.v2Path, 'cgroup.procs'));
    for (const pid of pids) {
      const nsKey = String(netnsInode(`/proc/${pid}/ns/net`) ?? `pid${pid}`);
      let table = seenNetns.get(nsKey);
      if (table === undefined) {
        table = { established: new Map() };
        const ports = new Set<number>();
        for (const s of readTcp(pid)) {
          if (s.state === tcpListen) ports.add(Number(s.local.split(':')[1]));
          if (s.state === tcpEstablished) table.established.set(s.inode, { local: s.local, remote: s.remote });
        }
        listening.set(nsKey, ports);
        seenNetns.set(nsKey, table);
      }
      for (const inode of socketInodes(pid)) {
        const s = table.established.get(inode);
        if (s === undefined) continue;
        if (sockets.some((x) => x.inode === inode && x.netns === nsKey)) continue;
        sockets.push({ ...s, state: tcpEstablished, inode, component: c.name, netns: nsKey });
      }
    }
  }
  const pairs = pairConnections(sockets, listening);
  const connections = orderPath(pairs, startComponent);
  const hops = connections.length === 0 ? [] : [connections[0]?.from ?? startComponent, ...connections.map((c) => c.to)];
  return { connections, connectionsOnPath: connectionsOnPath(pairs, startComponent), hops };
}

function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}
