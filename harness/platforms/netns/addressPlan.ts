import { BadInputError } from '../../errors';

/*
 * Names and addresses of the emulated cluster. Pure: the same run id and layout always give the same plan,
 * so tests check it without root and cleanup can recognise everything by its `mb-` prefix.
 *
 * Addresses come only from 198.18.0.0/15 (RFC 2544, benchmarking):
 *   198.18.0.0/24        the fabric (node "underlay"): node i has 198.18.0.(10+i)
 *   198.18.(16+i).0/24   pod CIDR of node i; 198.18.(16+i).1 is the node's gateway address on every pod veth
 *                        (a /32 on each, as Calico does), pods get .2, .3, …
 *   198.19.0.0/24        service virtual IPs (ClusterIPs): service k has 198.19.0.(10+k)
 */

export const namespacePrefix = 'mb-';
export const maxNodes = 8;
export const maxPodsPerNode = 200;
export const maxServices = 200;

export type NodeName = `node${number}`;

export interface NodePlan {
  readonly name: NodeName;
  readonly index: number;
  readonly netns: string;
  /** Address on the fabric bridge. */
  readonly fabricIp: string;
  /** The node's end of the fabric veth (in the fabric namespace). */
  readonly fabricVeth: string;
  readonly podCidr: string;
  /** The node's address on every pod veth: each pod's gateway. */
  readonly podGateway: string;
}

export interface PodPlan {
  readonly name: string;
  readonly node: NodeName;
  readonly netns: string;
  readonly ip: string;
  /** The node-side end of the pod's veth (in the node namespace); the pod side is always eth0. */
  readonly hostVeth: string;
}

export function validateRunId(runId: string): string {
  if (!/^[a-z0-9]{1,8}$/.test(runId)) throw new BadInputError(`run id "${runId}" must be 1-8 lower-case letters or digits`);
  return runId;
}

export function validatePodName(name: string): string {
  if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) throw new BadInputError(`pod name "${name}" must be lower-case letters, digits and dashes, starting with a letter`);
  return name;
}

export function fabricNetns(runId: string): string {
  return `${namespacePrefix}${runId}-fabric`;
}

export function nodePlan(runId: string, index: number): NodePlan {
  if (!Number.isInteger(index) || index < 1 || index > maxNodes) throw new BadInputError(`node index ${index} is outside 1..${maxNodes}`);
  return {
    name: `node${index}`,
    index,
    netns: `${namespacePrefix}${runId}-node${index}`,
    fabricIp: `198.18.0.${10 + index}`,
    fabricVeth: `vn${index}`,
    podCidr: `198.18.${16 + index}.0/24`,
    podGateway: `198.18.${16 + index}.1`,
  };
}

export function nodeIndexOf(node: string): number {
  const m = /^node(\d+)$/.exec(node);
  if (m === null) throw new BadInputError(`"${node}" is not a node name (node1, node2, …)`);
  return Number(m[1]);
}

/** slot: the pod's position on its node, from 0. */
export function podPlan(runId: string, name: string, node: NodePlan, slot: number): PodPlan {
  validatePodName(name);
  if (!Number.isInteger(slot) || slot < 0 || slot >= maxPodsPerNode) throw new BadInputError(`node ${node.name} has no room for another pod`);
  return {
    name,
    node: node.name,
    netns: `${namespacePrefix}${runId}-pod-${name}`,
    ip: `198.18.${16 + node.index}.${2 + slot}`,
    hostVeth: `vp${slot}`,
  };
}

export function serviceVip(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= maxServices) throw new BadInputError(`service index ${index} is outside 0..${maxServices - 1}`);
  return `198.19.0.${10 + index}`;
}

/** True for an address inside 198.18.0.0/15, the only range meshbench configures. */
export function inBenchmarkRange(ip: string): boolean {
  const parts = ip.split('.').map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) && parts[0] === 198 && (parts[1] === 18 || parts[1] === 19);
}

/** `ip -batch` lines that build the fabric namespace: a bridge, no address, nothing routed out. */
export function fabricBatch(nodes: readonly NodePlan[]): string[] {
  const lines = ['link set lo up', 'link add mbbr0 type bridge', 'link set mbbr0 up'];
  for (const n of nodes) lines.push(`link set ${n.fabricVeth} master mbbr0`, `link set ${n.fabricVeth} up`);
  return lines;
}

/** `ip -batch` lines for a node namespace (run after its fabric veth exists). */
export function nodeBatch(node: NodePlan, all: readonly NodePlan[]): string[] {
  const lines = ['link set lo up', 'link set eth0 up', `addr add ${node.fabricIp}/24 dev eth0`];
  for (const other of all) if (other.index !== node.index) lines.push(`route add ${other.podCidr} via ${other.fabricIp} dev eth0`);
  return lines;
}

/** Node-side lines for one pod: the veth end, the gateway /32 and the route to the pod. */
export function podHostBatch(pod: PodPlan, node: NodePlan): string[] {
  return [`link set ${pod.hostVeth} up`, `addr add ${node.podGateway}/32 dev ${pod.hostVeth}`, `route add ${pod.ip}/32 dev ${pod.hostVeth}`];
}

/** Pod-side lines: its address, the gateway as a link route, and 198.18.0.0/15 (only) via the gateway. */
export function podBatch(pod: PodPlan, node: NodePlan): string[] {
  return [
    'link set lo up',
    'link set eth0 up',
    `addr add ${pod.ip}/32 dev eth0`,
    `route add ${node.podGateway}/32 dev eth0 scope link`,
    `route add 198.18.0.0/15 via ${node.podGateway} dev eth0`,
  ];
}
