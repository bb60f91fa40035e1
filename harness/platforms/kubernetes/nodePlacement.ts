import type { V1Node } from '@kubernetes/client-node';
import { BadInputError } from '../../errors';
import type { Placement } from '../../runner/platformSession';

/** A node the workloads can be pinned to: Ready, not cordoned, no taint they do not tolerate. */
export function isSchedulable(node: V1Node): boolean {
  if (node.spec?.unschedulable === true) return false;
  if ((node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export interface NodeChoice {
  readonly server: string;
  /** Client node per placement (undefined when the profile does not use it). */
  readonly sameNode: string;
  readonly crossNode: string | undefined;
}

/**
 * Pure: the nodes to pin the echo server and the load client to. Explicit `kubernetes.nodes` win; else the
 * first schedulable nodes by name, so repeated runs land on the same machines.
 */
export function chooseNodes(nodes: readonly V1Node[], wanted: readonly string[] | undefined, placements: readonly Placement[]): NodeChoice {
  const names = nodes.map((n) => n.metadata?.name ?? '').filter((n) => n !== '');
  let pool: string[];
  if (wanted !== undefined && wanted.length > 0) {
    const unknown = wanted.filter((w) => !names.includes(w));
    if (unknown.length > 0) throw new BadInputError(`kubernetes.nodes: no node named ${unknown.join(', ')} on the cluster`, `nodes: ${names.slice(0, 8).join(', ')}`);
    pool = [...wanted];
  } else {
    pool = nodes.filter(isSchedulable).map((n) => n.metadata?.name ?? '').filter((n) => n !== '').sort();
  }
  const server = pool[0];
  if (server === undefined) throw new BadInputError('the cluster has no schedulable node (Ready, not cordoned, untainted)', 'kubectl get nodes; or name nodes in kubernetes.nodes');
  const crossNode = pool[1];
  if (placements.includes('cross-node') && crossNode === undefined) {
    throw new BadInputError(`cross-node placement needs two schedulable nodes; found ${pool.length}`, 'use placement: [same-node], or add a node / list two in kubernetes.nodes');
  }
  return { server, sameNode: server, crossNode };
}
