import fs from 'node:fs';

/*
 * Reading sockets from /proc/<pid>/net/tcp (the table of the process's network namespace) and from
 * /proc/<pid>/fd (which process holds which socket). No `ss` processes: cheap enough to poll.
 */

export interface TcpSocket {
  readonly local: string;
  readonly remote: string;
  /** Kernel state number: 1 ESTABLISHED, 10 LISTEN. */
  readonly state: number;
  readonly inode: number;
}

export const tcpEstablished = 1;
export const tcpListen = 10;

/** Parses /proc/net/tcp text (IPv4, little-endian hex addresses as the kernel prints them on x86/arm). */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = decodeEndpoint(f[1] ?? '');
    const remote = decodeEndpoint(f[2] ?? '');
    if (local === undefined || remote === undefined) continue;
    out.push({ local, remote, state: parseInt(f[3] ?? '0', 16), inode: Number(f[9]) });
  }
  return out;
}

function decodeEndpoint(hex: string): string | undefined {
  const m = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(hex);
  if (m === null) return undefined;
  const n = parseInt(m[1] ?? '0', 16);
  const ip = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
  return `${ip}:${parseInt(m[2] ?? '0', 16)}`;
}

export function readTcp(pid: number): TcpSocket[] {
  try {
    return parseProcNetTcp(fs.readFileSync(`/proc/${pid}/net/tcp`, 'utf8'));
  } catch {
    return [];
  }
}

export function readListeningPorts(pid: number): Set<number> {
  const ports = new Set<number>();
  for (const s of readTcp(pid)) if (s.state === tcpListen) ports.add(Number(s.local.split(':')[1]));
  return ports;
}

export function netnsInode(nsPath: string): bigint | undefined {
  try {
    return fs.statSync(nsPath, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** Socket inodes a process holds open. */
export function socketInodes(pid: number): number[] {
  const out: number[] = [];
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) out.push(Number(m[1]));
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** An established socket with the component that holds it. */
export interface OwnedSocket extends TcpSocket {
  readonly component: string;
  readonly netns: string;
}

/** One TCP connection: the side that connected and the side that accepted. */
export interface Connection {
  readonly from: string;
  readonly to: string;
  /** Source address:port (preserved on every hop: meshbench never SNATs). */
  readonly source: string;
  /** Where the connecting side aimed (a service address before DNAT or REDIRECT). */
  readonly dialled: string;
  /** Where the accepting side actually is. */
  readonly accepted: string;
}

/**
 * Pairs the two ends of each connection. Nothing on the path rewrites source addresses (DNAT and REDIRECT
 * change only the destination), so a connecting end's local address equals its peer's remote address; the
 * accepting end is the one whose local port is a listening port in its namespace.
 */
export function pairConnections(sockets: readonly OwnedSocket[], listening: ReadonlyMap<string, ReadonlySet<number>>): Connection[] {
  const isAcceptor = (s: OwnedSocket): boolean => listening.get(s.netns)?.has(Number(s.local.split(':')[1])) === true;
  const acceptorsBySource = new Map<string, OwnedSocket>();
  for (const s of sockets) if (isAcceptor(s)) acceptorsBySource.set(s.remote, s);
  const out: Connection[] = [];
  for (const s of sockets) {
    if (isAcceptor(s)) continue;
    const peer = acceptorsBySource.get(s.local);
    if (peer === undefined) continue;
    out.push({ from: s.component, to: peer.component, source: s.local, dialled: s.remote, accepted: peer.local });
  }
  return out;
}

/**
 * Orders connections as a path starting at `start`: the longest chain in which each hop begins where the
 * previous one ended (a node proxy can appear twice, e.g. ambient with a waypoint on the same node);
 * connections off that chain follow.
 */
export function orderPath(connections: readonly Connection[], start: string): Connection[] {
  const best = longestChain(connections, start);
  return [...best, ...connections.filter((c) => !best.includes(c))];
}

/** The longest chain from `start` in which each hop begins where the previous one ended (empty above 12 connections). */
export function longestChain(connections: readonly Connection[], start: string): Connection[] {
  let best: Connection[] = [];
  const walk = (at: string, used: Set<number>, chain: Connection[]): void => {
    if (chain.length > best.length) best = [...chain];
    connections.forEach((c, i) => {
      if (used.has(i) || c.from !== at) return;
      used.add(i);
      chain.push(c);
      walk(c.to, used, chain);
      chain.pop();
      used.delete(i);
    });
  };
  if (connections.length <= 12) walk(start, new Set(), []);
  return best;
}

/**
 * Connections one request takes: the longest chain from `start` over distinct component pairs. Idle
 * connections a proxy keeps pooled from earlier load are more connections between the same two
 * components, so they neither lengthen the chain nor count.
 */
export function connectionsOnPath(connections: readonly Connection[], start: string): number {
  const distinct = new Map<string, Connection>();
  for (const c of connections) if (!distinct.has(`${c.from}>${c.to}`)) distinct.set(`${c.from}>${c.to}`, c);
  return longestChain([...distinct.values()], start).length;
}
