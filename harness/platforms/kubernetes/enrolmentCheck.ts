import type { V1Pod } from '@kubernetes/client-node';
import type { ComponentRole } from '../../results/resultTypes';
import type { MeshEnrolment } from './meshMapping';

/*
 * Did the mesh really take the pods? A namespace label is a request, not a fact: an injector webhook that
 * is not installed, a CNI that did not capture the pod or a node without its agent leave the traffic
 * un-meshed, and a benchmark of that would report "the mesh costs nothing". Pure functions over pods.
 */

/** Containers of a pod, native sidecars (init containers that keep running) included. */
export function containerNames(pod: V1Pod): string[] {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
}

export function isPodReady(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export interface EnrolmentFacts {
  readonly serverPod: V1Pod;
  readonly clientPod?: V1Pod;
  /** Nodes the client and server run on (one for same-node). */
  readonly nodes: readonly string[];
  /** Pods of the mesh's node agents, any namespace. */
  readonly agentPods: ReadonlyMap<string, readonly V1Pod[]>;
  readonly waypointPods: readonly V1Pod[];
}

/** Every way the mesh is not there; empty when it is. */
export function enrolmentProblems(e: MeshEnrolment, f: EnrolmentFacts): string[] {
  const problems: string[] = [];
  const pods: Array<[string, V1Pod]> = [['echo server', f.serverPod], ...(f.clientPod === undefined ? [] : [['load client', f.clientPod] as [string, V1Pod]])];
  for (const [what, pod] of pods) {
    const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (e.sidecarContainer !== null && !containerNames(pod).includes(e.sidecarContainer)) {
      problems.push(`the ${what} pod ${name} has no ${e.sidecarContainer} container: ${e.mesh}'s injector did not run for the namespace`);
    }
    if (e.redirectionAnnotation !== null) {
      const [key, value] = e.redirectionAnnotation;
      if (pod.metadata?.annotations?.[key] !== value) problems.push(`the ${what} pod ${name} lacks the annotation ${key}=${value}: ${e.mesh} did not capture its traffic`);
    }
  }
  for (const agent of e.nodeAgents) {
    const agentPods = f.agentPods.get(agent.name) ?? [];
    if (!agent.required && agentPods.length === 0) continue;
    for (const node of f.nodes) {
      const onNode = agentPods.filter((p) => p.spec?.nodeName === node);
      if (onNode.length === 0) problems.push(`no ${agent.name} pod (${agent.selector}) on node ${node}: ${e.mesh} does not carry this node's traffic`);
      else if (!onNode.some(isPodReady)) problems.push(`the ${agent.name} pod on node ${node} is not ready`);
    }
  }
  if (e.waypoint && !f.waypointPods.some(isPodReady)) problems.push('the waypoint has no ready pod');
  return problems;
}

/** What the metrics API is asked about one component. */
export interface ComponentSource {
  readonly name: string;
  readonly role: ComponentRole;
  readonly node: string | null;
  readonly namespace: string;
  /** A label selector (the client pod changes every step) or a pod name. */
  readonly podSelector: string;
  /** Container names counted; null = every container of the pod. */
  readonly containers: readonly string[] | null;
  /** Containers left out (the app, when the component is its sidecar). */
  readonly excludeContainers?: readonly string[];
}

/** The measured components of a deployment: app containers, sidecars, node agents on the used nodes, waypoints. */
export function componentSources(e: MeshEnrolment, namespace: string, serverNode: string, clientNode: string, agentPods: ReadonlyMap<string, readonly V1Pod[]>, waypointPods: readonly V1Pod[]): ComponentSource[] {
  const out: ComponentSource[] = [
    { name: 'client', role: 'client', node: clientNode, namespace, podSelector: 'meshbench.io/role=client', containers: ['load'] },
    { name: 'server', role: 'server', node: serverNode, namespace, podSelector: 'meshbench.io/role=server', containers: ['echo'] },
  ];
  if (e.sidecarContainer !== null) {
    out.push({ name: 'client-proxy', role: 'proxy', node: clientNode, namespace, podSelector: 'meshbench.io/role=client', containers: [e.sidecarContainer] });
    out.push({ name: 'server-proxy', role: 'proxy', node: serverNode, namespace, podSelector: 'meshbench.io/role=server', containers: [e.sidecarContainer] });
  }
  const nodes = clientNode === serverNode ? [serverNode] : [clientNode, serverNode];
  for (const agent of e.nodeAgents) {
    for (const node of nodes) {
      const pod = (agentPods.get(agent.name) ?? []).find((p) => p.spec?.nodeName === node);
      if (pod === undefined) continue;
      out.push({ name: `${node}-${agent.name}`, role: 'dataplane', node, namespace: pod.metadata?.namespace ?? '', podSelector: `metadata.name=${pod.metadata?.name}`, containers: null });
    }
  }
  waypointPods.forEach((pod, i) => {
    out.push({ name: waypointPods.length === 1 ? 'waypoint' : `waypoint-${i + 1}`, role: 'proxy', node: pod.spec?.nodeName ?? null, namespace: pod.metadata?.namespace ?? namespace, podSelector: `metadata.name=${pod.metadata?.name}`, containers: null });
  });
  return out;
}
