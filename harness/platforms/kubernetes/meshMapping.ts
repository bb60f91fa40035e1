import { BadInputError } from '../../errors';
import type { DataPlaneName, MeshName, Profile } from '../../profile/profileSchema';

/*
 * Which real mesh stands for each of meshbench's data planes on a cluster, and how that mesh enrols a
 * namespace. The labels and annotations are the ones each mesh documents:
 *   Istio sidecar   namespace label istio-injection=enabled
 *   Istio ambient   namespace label istio.io/dataplane-mode=ambient
 *   waypoint        ambient + namespace label istio.io/use-waypoint=<name> + a Gateway (class istio-waypoint)
 *   Kmesh           namespace label istio.io/dataplane-mode=Kmesh (dual engine: + a waypoint)
 *   Linkerd         namespace annotation linkerd.io/inject: enabled (an annotation, not a label)
 *   Cilium          no enrolment (every pod is in the eBPF data path); L7 through a CiliumNetworkPolicy
 *                   with http rules, which sends the traffic through cilium-envoy
 */

export type EnrolmentMode = 'plain' | 'istio-sidecar' | 'istio-ambient' | 'istio-waypoint' | 'linkerd-sidecar'
  | 'kmesh' | 'kmesh-waypoint' | 'cilium-l4' | 'cilium-l7';

export interface MeshEnrolment {
  readonly dataplane: DataPlaneName;
  readonly mesh: MeshName;
  readonly mode: EnrolmentMode;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly namespaceAnnotations: Readonly<Record<string, string>>;
  /** Pod annotations: start the app only once its sidecar is up, or the first requests miss the proxy. */
  readonly podAnnotations: Readonly<Record<string, string>>;
  /** A waypoint Gateway in the namespace, used by every service in it. */
  readonly waypoint: boolean;
  /** Annotations on the waypoint Gateway (Kmesh swaps in its own waypoint image this way). */
  readonly waypointAnnotations: Readonly<Record<string, string>>;
  /** A CiliumNetworkPolicy with http rules in front of the echo server. */
  readonly ciliumL7Policy: boolean;
  /** The container a mesh injects next to the app, checked in every pod. */
  readonly sidecarContainer: string | null;
  /** The pod annotation a node agent sets when it has captured a pod's traffic. */
  readonly redirectionAnnotation: readonly [string, string] | null;
  /** Per-node agents that must run on every node used (they carry the traffic). */
  readonly nodeAgents: readonly NodeAgent[];
}

export interface NodeAgent {
  /** Component name prefix in results: "<node>-<name>". */
  readonly name: string;
  /** Label selector of its pods, any namespace. */
  readonly selector: string;
  /** False for agents some installs fold into another one (cilium-envoy runs inside the agent on older Cilium). */
  readonly required: boolean;
}

export const waypointName = 'meshbench-waypoint';
export const kmeshWaypointImage = 'ghcr.io/kmesh-net/waypoint:latest';

const ztunnel: NodeAgent = { name: 'ztunnel', selector: 'app=ztunnel', required: true };
const kmeshDaemon: NodeAgent = { name: 'kmesh', selector: 'app=kmesh', required: true };
const ciliumAgent: NodeAgent = { name: 'cilium', selector: 'k8s-app=cilium', required: true };
const ciliumEnvoy: NodeAgent = { name: 'cilium-envoy', selector: 'k8s-app=cilium-envoy', required: false };

/** Meshes each data plane can be measured on; the first is the default. */
export const meshesByDataPlane: Readonly<Record<DataPlaneName, readonly MeshName[]>> = {
  baseline: ['none'],
  sidecar: ['istio', 'linkerd'],
  ambient: ['istio'],
  waypoint: ['istio', 'cilium'],
  kernel: ['kmesh', 'cilium'],
  dual: ['kmesh'],
};

/** The mesh for a data plane: `meshes.<dp>`, else `mesh` when it serves that data plane, else the default. */
export function meshFor(dataplane: DataPlaneName, k8s: Profile['kubernetes']): MeshName {
  const allowed = meshesByDataPlane[dataplane];
  const explicit = k8s?.meshes?.[dataplane];
  if (explicit !== undefined) {
    if (!allowed.includes(explicit)) {
      throw new BadInputError(`kubernetes.meshes.${dataplane}: ${explicit} cannot stand for the ${dataplane} data plane`, `use one of ${allowed.join(', ')}`);
    }
    return explicit;
  }
  const preferred = k8s?.mesh;
  if (preferred !== undefined && allowed.includes(preferred)) return preferred;
  return allowed[0] as MeshName;
}

export function enrolmentFor(dataplane: DataPlaneName, k8s: Profile['kubernetes']): MeshEnrolment {
  const mesh = meshFor(dataplane, k8s);
  const base = { dataplane, mesh, namespaceLabels: {}, namespaceAnnotations: {}, podAnnotations: {}, waypoint: false, waypointAnnotations: {}, ciliumL7Policy: false, sidecarContainer: null, redirectionAnnotation: null, nodeAgents: [] };
  switch (`${dataplane}/${mesh}`) {
    case 'baseline/none':
      return { ...base, mode: 'plain' };
    case 'sidecar/istio':
      return {
        ...base, mode: 'istio-sidecar', namespaceLabels: { 'istio-injection': 'enabled' }, sidecarContainer: 'istio-proxy',
        podAnnotations: { 'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts": true}' },
      };
    case 'sidecar/linkerd':
      return {
        ...base, mode: 'linkerd-sidecar', namespaceAnnotations: { 'linkerd.io/inject': 'enabled' }, sidecarContainer: 'linkerd-proxy',
        podAnnotations: { 'config.linkerd.io/proxy-await': 'enabled' },
      };
    case 'ambient/istio':
      return { ...base, mode: 'istio-ambient', namespaceLabels: { 'istio.io/dataplane-mode': 'ambient' }, redirectionAnnotation: ['ambient.istio.io/redirection', 'enabled'], nodeAgents: [ztunnel] };
    case 'waypoint/istio':
      return {
        ...base, mode: 'istio-waypoint', waypoint: true, redirectionAnnotation: ['ambient.istio.io/redirection', 'enabled'], nodeAgents: [ztunnel],
        namespaceLabels: { 'istio.io/dataplane-mode': 'ambient', 'istio.io/use-waypoint': waypointName },
      };
    case 'waypoint/cilium':
      return { ...base, mode: 'cilium-l7', ciliumL7Policy: true, nodeAgents: [ciliumAgent, ciliumEnvoy] };
    case 'kernel/kmesh':
      return { ...base, mode: 'kmesh', namespaceLabels: { 'istio.io/dataplane-mode': 'Kmesh' }, redirectionAnnotation: ['kmesh.net/redirection', 'enabled'], nodeAgents: [kmeshDaemon] };
    case 'kernel/cilium':
      return { ...base, mode: 'cilium-l4', nodeAgents: [ciliumAgent] };
    case 'dual/kmesh':
      return {
        ...base, mode: 'kmesh-waypoint', waypoint: true, redirectionAnnotation: ['kmesh.net/redirection', 'enabled'], nodeAgents: [kmeshDaemon],
        // Kmesh's waypoint is Istio's with a listener filter for Kmesh's TLV metadata (Kmesh "Try Waypoint" guide).
        waypointAnnotations: { 'sidecar.istio.io/proxyImage': k8s?.kmeshWaypointImage ?? kmeshWaypointImage },
        namespaceLabels: { 'istio.io/dataplane-mode': 'Kmesh', 'istio.io/use-waypoint': waypointName },
      };
    default:
      throw new BadInputError(`no mesh mapping for ${dataplane} on ${mesh}`);
  }
}
