/*
 * The byte layouts of bpf/kernelSteering.h, encoded and decoded here (the addon only moves bytes). Pure, so the
 * unit tests pin every offset. Addresses and ports go in network byte order, as cgroup/connect4 sees them;
 * ids, counts and node indexes in the machine's order (little-endian on every machine meshbench runs on).
 */

export const steeringObjectName = 'kernelSteering';

export const steeringPrograms = { connect4: 'mb_connect4', sockops: 'mb_sockops', skMsg: 'mb_sk_msg' } as const;
export type SteeringProgram = (typeof steeringPrograms)[keyof typeof steeringPrograms];
/** The programs attached to enrolled pods' cgroups. */
export const cgroupPrograms: readonly SteeringProgram[] = [steeringPrograms.connect4, steeringPrograms.sockops];

export const steeringMaps = {
  services: 'mb_services', backends: 'mb_backends', endpoints: 'mb_endpoints', sockets: 'mb_sockets', stats: 'mb_stats',
} as const;
export type SteeringMap = (typeof steeringMaps)[keyof typeof steeringMaps];

export const maxBackends = 64;
export const maxServices = 256;

export type BalancePolicy = 'round-robin' | 'random';
const policyCode: Readonly<Record<BalancePolicy, number>> = { 'round-robin': 0, random: 1 };

/** What the control plane tells the kernel about one service. */
export interface SteeredService {
  readonly id: number;
  readonly vip: string;
  readonly port: number;
  readonly backends: ReadonlyArray<{ readonly ip: string; readonly port: number }>;
  readonly policy: BalancePolicy;
  /** dual: every connection to the service goes to its L7 waypoint instead of a backend. */
  readonly waypoint?: { readonly ip: string; readonly port: number };
}

export interface MapEntry {
  readonly key: Buffer;
  readonly value: Buffer;
}

function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`bad IPv4 address ${ip}`);
  return Buffer.from(parts);
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`bad port ${port}`);
  return port;
}

/** struct mb_service_key {u32 vip; u16 port; u16 pad} */
export function serviceKey(vip: string, port: number): Buffer {
  const b = Buffer.alloc(8);
  ipv4Bytes(vip).copy(b, 0);
  b.writeUInt16BE(checkPort(port), 4);
  return b;
}

/** struct mb_backend_key {u32 service_id; u32 index} */
export function backendKey(serviceId: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(serviceId, 0);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct mb_backend {u32 ip; u16 port; u16 pad} */
export function backendValue(ip: string, port: number): Buffer {
  const b = Buffer.alloc(8);
  ipv4Bytes(ip).copy(b, 0);
  b.writeUInt16BE(checkPort(port), 4);
  return b;
}

/**
 * The entries that describe one service: its mb_services row, then one mb_backends row per backend. Written
 * backends first, service last, so the program never sees a count larger than the rows present.
 */
export function serviceEntries(s: SteeredService): { readonly services: MapEntry; readonly backends: readonly MapEntry[] } {
  if (!Number.isInteger(s.id) || s.id < 0 || s.id >= maxServices) throw new RangeError(`service id ${s.id} is outside 0..${maxServices - 1}`);
  if (s.backends.length > maxBackends) throw new RangeError(`a service has at most ${maxBackends} backends, not ${s.backends.length}`);
  const value = Buffer.alloc(20);
  value.writeUInt32LE(s.id, 0);
  value.writeUInt32LE(s.backends.length, 4);
  value.writeUInt32LE(policyCode[s.policy], 8);
  if (s.waypoint !== undefined) {
    ipv4Bytes(s.waypoint.ip).copy(value, 12);
    value.writeUInt16BE(checkPort(s.waypoint.port), 16);
  }
  return {
    services: { key: serviceKey(s.vip, s.port), value },
    backends: s.backends.map((be, i) => ({ key: backendKey(s.id, i), value: backendValue(be.ip, be.port) })),
  };
}

/** mb_endpoints: enrolled pod address → node index (same index = same node = sockmap redirect allowed). */
export function endpointEntry(ip: string, nodeIndex: number): MapEntry {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(nodeIndex, 0);
  return { key: ipv4Bytes(ip), value };
}

/** enum mb_stat, in order. */
export const steeringStatNames = [
  'connectsSeen', 'connectsSteered', 'connectsToWaypoint', 'socketsAdded', 'messagesRedirected', 'messagesPassed',
] as const;
export type SteeringStats = Record<(typeof steeringStatNames)[number], number>;

/**
 * Sums mb_stats (a per-CPU array: each value is one u64 per possible CPU, concatenated) into named counters.
 */
export function decodeSteeringStats(entries: readonly MapEntry[]): SteeringStats {
  const stats = Object.fromEntries(steeringStatNames.map((n) => [n, 0])) as SteeringStats;
  for (const { key, value } of entries) {
    const name = steeringStatNames[key.readUInt32LE(0)];
    if (name === undefined) continue;
    let sum = 0n;
    for (let off = 0; off + 8 <= value.length; off += 8) sum += value.readBigUInt64LE(off);
    stats[name] = Number(sum);
  }
  return stats;
}
