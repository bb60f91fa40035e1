import type { V1Pod } from '@kubernetes/client-node';
import { describeError } from '../../errors';
import type { DoctorCheck } from '../../doctor/doctorCheck';
import { dataPlaneNames } from '../../profile/profileSchema';
import { KubeApi, clientNode, statusOf, type KubeTarget } from './kubeClient';
import { isSchedulable } from './nodePlacement';
import { clusterInventory, partSignatures, type ClusterInventory, type MeshPart } from './meshDetect';
import { probesNamespace } from './manifests';
import { enrolmentFor, meshesByDataPlane } from './meshMapping';
import { cleanupPermissions, deniedPermissions, describePermission, probePermissions, requiredPermissions } from './permissions';

/*
 * `meshbench doctor --kubernetes`: what the current (or named) context offers, row by row. Nothing is
 * created: the privileged-pod check is a server-side dry run.
 */


const row = (name: string, ok: boolean, detail: string, enables: string, fix: string | null, core: boolean): DoctorCheck => ({ name, ok, detail, enables, fix: ok ? null : fix, core });

interface MeshRow { name: string; parts: MeshPart[]; enables: string }
const meshRows: MeshRow[] = [
  { name: 'Istio (istiod)', parts: ['istiod'], enables: 'sidecar (Istio), the control plane for ambient, waypoint and Kmesh' },
  { name: 'Istio ambient (ztunnel)', parts: ['ztunnel', 'istio-cni'], enables: 'ambient and waypoint (Istio)' },
  { name: 'Linkerd', parts: ['linkerd'], enables: 'sidecar with kubernetes.meshes.sidecar: linkerd' },
  { name: 'Cilium', parts: ['cilium'], enables: 'kernel or waypoint with kubernetes.meshes: cilium (L7 through cilium-envoy)' },
  { name: 'Kmesh', parts: ['kmesh'], enables: 'kernel and dual (Kmesh dual engine, with istiod)' },
];

export async function kubernetesDoctorChecks(context?: string, kubeconfig?: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let api: KubeApi;
  try {
    api = KubeApi.open({ context, kubeconfig } satisfies KubeTarget);
    checks.push(row('kubernetes context', true, `${api.context} → ${api.server} (${api.source})`, 'the kubernetes platform', null, true));
  } catch (err) {
    checks.push(row('kubernetes context', false, describeError(err).line, 'the kubernetes platform', 'point KUBECONFIG at your cluster\'s kubeconfig, or pass --context', true));
    return checks;
  }
  try {
    const version = await withTimeout(api.call('read the server version', () => api.kc.makeApiClient(clientNode().VersionApi).getCode()), 15_000);
    checks.push(row('kubernetes API', true, `${version.gitVersion} at ${api.server}`, 'the kubernetes platform', null, true));
  } catch (err) {
    checks.push(row('kubernetes API', false, describeError(err).line, 'the kubernetes platform', `kubectl --context ${api.context} cluster-info`, true));
    return checks;
  }

  const everyEnrolment = dataPlaneNames.flatMap((dp) => meshesByDataPlane[dp].map((mesh) => enrolmentFor(dp, { meshes: { [dp]: mesh }, readyTimeout: '1s', metricsInterval: '1s' })));
  try {
    const denied = await deniedPermissions(api, [...requiredPermissions(everyEnrolment), ...probePermissions, ...cleanupPermissions]);
    checks.push(row('permissions', denied.length === 0, denied.length === 0 ? 'everything meshbench-runner grants (SelfSubjectAccessReview)' : `denied: ${denied.map(describePermission).join(', ')}`,
      'deploying, measuring and removing the workloads', 'kubectl apply -f deploy/kubernetes/rbac.yaml and bind meshbench-runner (and the meshbench-runner-probes Role) to your user', true));
  } catch (err) {
    checks.push(row('permissions', false, describeError(err).line, 'deploying, measuring and removing the workloads', 'kubectl apply -f deploy/kubernetes/rbac.yaml', true));
  }

  let inventory: ClusterInventory | undefined;
  try {
    inventory = await clusterInventory(api);
  } catch (err) {
    checks.push(row('installed meshes', false, describeError(err).line, 'checking which data planes can run', 'grant list on deployments and daemonsets (deploy/kubernetes/rbac.yaml)', false));
  }
  if (inventory !== undefined) {
    const inv = inventory;
    checks.push(row('metrics API', inv.apiGroups.has('metrics.k8s.io'), inv.apiGroups.has('metrics.k8s.io') ? 'metrics.k8s.io served' : 'metrics.k8s.io is not served',
      'CPU and memory per component', 'install metrics-server (kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml)', false));
    for (const m of meshRows) {
      const found = m.parts.map((p) => inv.parts.get(p)).filter((p) => p !== undefined);
      const ok = found.length > 0 && m.parts.every((p) => p === 'istio-cni' || inv.parts.has(p));
      const detail = found.length === 0 ? 'not installed' : found.map((p) => `${p.part} ${p.version ?? '?'} in ${p.namespace} (${p.ready} ready)`).join(', ');
      const sig = partSignatures.find((s) => s.part === m.parts[0]);
      checks.push(row(m.name, ok, detail, m.enables, sig?.install ?? null, false));
    }
    checks.push(row('Gateway API', inv.apiGroups.has('gateway.networking.k8s.io'), inv.apiGroups.has('gateway.networking.k8s.io') ? 'gateway.networking.k8s.io served' : 'the Gateway API CRDs are not installed',
      'waypoints (waypoint on Istio, dual on Kmesh)', 'kubectl apply -f https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml', false));
  }

  try {
    const nodes = (await api.call('list nodes', () => api.core.listNode())).items;
    const usable = nodes.filter(isSchedulable);
    checks.push(row('nodes', usable.length >= 2, `${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${usable.length} schedulable${usable.length > 0 ? ` (${usable.slice(0, 4).map((n) => n.metadata?.name).join(', ')}${usable.length > 4 ? ', …' : ''})` : ''}`,
      'cross-node placement (same-node needs one)', 'add a second schedulable node, or use placement: [same-node]', false));
  } catch (err) {
    checks.push(row('nodes', false, describeError(err).line, 'placement', 'grant list on nodes (deploy/kubernetes/rbac.yaml)', false));
  }

  checks.push(await privilegedPodsCheck(api));
  return checks;
}

/** A server-side dry run of a privileged pod in the probes namespace: admission (Pod Security) answers. */
async function privilegedPodsCheck(api: KubeApi): Promise<DoctorCheck> {
  const enables = 'the probes DaemonSet (eBPF attribution on the cluster)';
  const fix = `kubectl apply -f deploy/kubernetes/rbac.yaml (it creates ${probesNamespace} with pod-security.kubernetes.io/enforce: privileged)`;
  const pod: V1Pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'meshbench-privileged-check', namespace: probesNamespace },
    spec: { hostPID: true, containers: [{ name: 'check', image: 'busybox', securityContext: { privileged: true } }] },
  };
  try {
    await api.core.createNamespacedPod({ namespace: probesNamespace, body: pod, dryRun: 'All' });
    return row('privileged pods', true, `allowed in ${probesNamespace} (dry run)`, enables, null, false);
  } catch (err) {
    const status = statusOf(err);
    const line = status === 404 ? `namespace ${probesNamespace} does not exist` : describeError(api.translate(err, `create a privileged pod in ${probesNamespace} (dry run)`)).line;
    return row('privileged pods', false, line, enables, fix, false);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}
