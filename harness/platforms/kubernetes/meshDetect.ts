import type { V1Container, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { BadInputError } from '../../errors';
import type { KubeApi } from './kubeClient';
import type { EnrolmentMode, MeshEnrolment } from './meshMapping';

/*
 * What is installed on the cluster, found the way an operator would look: the control plane's Deployment
 * or the node agent's DaemonSet, by the labels each mesh's own install puts on them; the version is the
 * image tag. API groups (Gateway API, Cilium CRDs, metrics) come from discovery.
 */

export type MeshPart = 'istiod' | 'ztunnel' | 'istio-cni' | 'linkerd' | 'cilium' | 'cilium-envoy' | 'kmesh';

interface PartSignature {
  readonly part: MeshPart;
  readonly kind: 'Deployment' | 'DaemonSet';
  readonly selector: string;
  /** What to install when it is missing. */
  readonly install: string;
}

export const partSignatures: readonly PartSignature[] = [
  { part: 'istiod', kind: 'Deployment', selector: 'app=istiod', install: 'istioctl install (add --set profile=ambient for ambient and waypoints)' },
  { part: 'ztunnel', kind: 'DaemonSet', selector: 'app=ztunnel', install: 'istioctl install --set profile=ambient' },
  { part: 'istio-cni', kind: 'DaemonSet', selector: 'k8s-app=istio-cni-node', install: 'istioctl install --set profile=ambient' },
  { part: 'linkerd', kind: 'Deployment', selector: 'linkerd.io/control-plane-component=destination', install: 'linkerd install --crds | kubectl apply -f - && linkerd install | kubectl apply -f -' },
  { part: 'cilium', kind: 'DaemonSet', selector: 'k8s-app=cilium', install: 'cilium install' },
  { part: 'cilium-envoy', kind: 'DaemonSet', selector: 'k8s-app=cilium-envoy', install: 'cilium install (Cilium 1.16+ runs envoy as its own DaemonSet)' },
  { part: 'kmesh', kind: 'DaemonSet', selector: 'app=kmesh', install: 'helm install kmesh ./deploy/charts/kmesh-helm -n kmesh-system --create-namespace (Kmesh needs istiod as its control plane)' },
];

export interface InstalledPart {
  readonly part: MeshPart;
  readonly namespace: string;
  readonly name: string;
  readonly version: string | null;
  /** Ready replicas (Deployment) or ready pods (DaemonSet). */
  readonly ready: number;
}

export interface ClusterInventory {
  readonly parts: ReadonlyMap<MeshPart, InstalledPart>;
  readonly apiGroups: ReadonlySet<string>;
}

/** The image tag, without registry, digest or a leading v: "docker.io/istio/pilot:1.24.2" → "1.24.2". */
export function imageVersion(image: string | undefined): string | null {
  if (image === undefined) return null;
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return null;
  return noDigest.slice(colon + 1).replace(/^v(?=\d)/, '');
}

function mainContainer(containers: readonly V1Container[] | undefined, part: MeshPart): V1Container | undefined {
  const preferred: Record<MeshPart, string[]> = {
    istiod: ['discovery'], ztunnel: ['istio-proxy', 'ztunnel'], 'istio-cni': ['install-cni'], linkerd: ['destination'],
    cilium: ['cilium-agent'], 'cilium-envoy': ['cilium-envoy'], kmesh: ['kmesh'],
  };
  return containers?.find((c) => preferred[part].includes(c.name)) ?? containers?.[0];
}

export async function clusterInventory(api: KubeApi): Promise<ClusterInventory> {
  const found = await Promise.all(partSignatures.map(async (sig): Promise<InstalledPart | undefined> => {
    const items: Array<V1Deployment | V1DaemonSet> = sig.kind === 'Deployment'
      ? (await api.call('list deployments in all namespaces', () => api.apps.listDeploymentForAllNamespaces({ labelSelector: sig.selector }))).items
      : (await api.call('list daemonsets in all namespaces', () => api.apps.listDaemonSetForAllNamespaces({ labelSelector: sig.selector }))).items;
    const first = items[0];
    if (first === undefined) return undefined;
    const status = first.status as { readyReplicas?: number; numberReady?: number } | undefined;
    return {
      part: sig.part,
      namespace: first.metadata?.namespace ?? '',
      name: first.metadata?.name ?? '',
      version: imageVersion(mainContainer(first.spec?.template.spec?.containers, sig.part)?.image),
      ready: status?.readyReplicas ?? status?.numberReady ?? 0,
    };
  }));
  const groups = await api.call('discover API groups', () => api.apis.getAPIVersions());
  return {
    parts: new Map(found.filter((p): p is InstalledPart => p !== undefined).map((p) => [p.part, p])),
    apiGroups: new Set(groups.groups.map((g) => g.name)),
  };
}

/** The parts and API groups a data plane cannot do without. */
export function requirementsOf(mode: EnrolmentMode): { parts: MeshPart[]; apiGroups: string[] } {
  switch (mode) {
    case 'plain': return { parts: [], apiGroups: [] };
    case 'istio-sidecar': return { parts: ['istiod'], apiGroups: [] };
    case 'istio-ambient': return { parts: ['istiod', 'ztunnel'], apiGroups: [] };
    case 'istio-waypoint': return { parts: ['istiod', 'ztunnel'], apiGroups: ['gateway.networking.k8s.io'] };
    case 'linkerd-sidecar': return { parts: ['linkerd'], apiGroups: [] };
    case 'kmesh': return { parts: ['kmesh'], apiGroups: [] };
    case 'kmesh-waypoint': return { parts: ['kmesh', 'istiod'], apiGroups: ['gateway.networking.k8s.io'] };
    case 'cilium-l4': return { parts: ['cilium'], apiGroups: [] };
    case 'cilium-l7': return { parts: ['cilium'], apiGroups: ['cilium.io'] };
  }
}

const groupInstall: Record<string, string> = {
  'gateway.networking.k8s.io': 'install the Gateway API CRDs (kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml)',
  'cilium.io': 'install Cilium (its CRDs come with it)',
  'metrics.k8s.io': 'install metrics-server',
};

/** Pure: the first missing piece for a data plane, as one line with the fix; null when all is there. */
export function missingFor(enrolment: MeshEnrolment, inv: ClusterInventory): { line: string; hint: string } | null {
  const req = requirementsOf(enrolment.mode);
  for (const part of req.parts) {
    const p = inv.parts.get(part);
    const sig = partSignatures.find((s) => s.part === part) as PartSignature;
    if (p === undefined) {
      return { line: `the ${enrolment.dataplane} data plane needs ${enrolment.mesh} (${part}: no ${sig.kind} labelled ${sig.selector} on the cluster)`, hint: `${sig.install}, or drop ${enrolment.dataplane} from dataplanes, or map it to another mesh with kubernetes.meshes` };
    }
    if (p.ready === 0) {
      return { line: `the ${enrolment.dataplane} data plane needs ${enrolment.mesh}, but ${part} (${p.namespace}/${p.name}) has no ready pod`, hint: `kubectl -n ${p.namespace} describe ${sig.kind.toLowerCase()} ${p.name}` };
    }
  }
  for (const g of req.apiGroups) {
    if (!inv.apiGroups.has(g)) return { line: `the ${enrolment.dataplane} data plane needs the API group ${g}, which the cluster does not serve`, hint: groupInstall[g] ?? `install what serves ${g}` };
  }
  return null;
}

/** Refuses, before anything is created, a run that names a mesh the cluster does not have. */
export function requireMeshes(enrolments: readonly MeshEnrolment[], inv: ClusterInventory): void {
  for (const e of enrolments) {
    const missing = missingFor(e, inv);
    if (missing !== null) throw new BadInputError(missing.line, missing.hint);
  }
}

/** "istio 1.24.2 (istiod, ztunnel)"-style versions for run.json. */
export function inventoryVersions(inv: ClusterInventory): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of inv.parts.values()) out[p.part] = p.version ?? 'unknown';
  return out;
}
