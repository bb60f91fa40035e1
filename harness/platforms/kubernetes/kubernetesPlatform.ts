import type { V1ConfigMap, V1DaemonSet, V1Deployment, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { parseDurationUs } from '../../../workloads/durationParse';
import type { LoadResult } from '../../../workloads/loadResult';
import { BadInputError, EnvironmentError, MeshbenchError } from '../../errors';
import type { DataPlaneName, Profile } from '../../profile/profileSchema';
import type { DeployedDataPlane, LoadInvocation, Placement, PlatformSession, ResourceSampling } from '../../runner/platformSession';
import { progressOf } from '../../runner/loadProcess';
import type { KubernetesComponent } from './clusterProbes';
import { componentSources, enrolmentProblems, type ComponentSource } from './enrolmentCheck';
import { KubeApi, clientNode } from './kubeClient';
import { deleteLabelledNamespaces, deleteNamespace, waitNamespaceGone } from './kubernetesCleanup';
import { eventStream, parseLoadLog } from './loadPodLog';
import {
  defaultImage, deploymentManifests, echoTargetUrl, loadPodManifest, namespaceName, runLabel, runLabelValue, type AnyManifest, type WorkloadContext,
} from './manifests';
import { clusterInventory, inventoryVersions, requireMeshes, type ClusterInventory } from './meshDetect';
import { enrolmentFor, waypointName, type MeshEnrolment } from './meshMapping';
import { chooseNodes, type NodeChoice } from './nodePlacement';
import { requirePermissions, requiredPermissions } from './permissions';
import { PodMetricsSampler } from './podMetricsSampler';
import { exitCodeOf, waitForContainer, waitForReadyPod } from './podWait';
import { readWorkloadBundle } from './workloadBundle';

/*
 * The kubernetes platform: per data plane a fresh namespace enrolled the way its mesh does it, the echo
 * server as a Deployment + Service, the load client as a pod per step, resources from the metrics API.
 * Before anything is created it checks the kubeconfig, that the API answers, the permissions
 * (SelfSubjectAccessReview) and that every mesh the profile names is installed; a failing check is one
 * line and exit 2 with nothing created.
 */

export interface KubernetesPlatformOptions {
  /** An API client (tests); default: from the profile's kubeconfig and context. */
  readonly api?: KubeApi;
  /** The workloads bundle text (tests); default: dist/pod/workloads.js. */
  readonly bundleJs?: string;
  /** How long the first request may take before the API counts as unreachable. */
  readonly reachTimeoutMs?: number;
}

const ms = (d: string): number => (parseDurationUs(d) ?? 0) / 1000;

async function withTimeout<T>(p: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), timeoutMs); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The preflight every kubernetes command shares: reachable, allowed, meshes there. Creates nothing. */
export async function preflight(api: KubeApi, enrolments: readonly MeshEnrolment[], reachTimeoutMs = 15_000): Promise<ClusterInventory> {
  await withTimeout(api.call('reach the API server', () => api.apis.getAPIVersions()), reachTimeoutMs,
    () => new BadInputError(`cannot reach the Kubernetes API at ${api.server} (context ${api.context}: no answer in ${Math.round(reachTimeoutMs / 1000)} s)`, `check the cluster and context: kubectl --context ${api.context} cluster-info`));
  await requirePermissions(api, requiredPermissions(enrolments));
  const inventory = await clusterInventory(api);
  requireMeshes(enrolments, inventory);
  return inventory;
}

export async function openKubernetesPlatform(profile: Profile, runId: string, options: KubernetesPlatformOptions = {}): Promise<PlatformSession> {
  const k8s = profile.kubernetes;
  const enrolments = profile.dataplanes.map((dp) => enrolmentFor(dp, k8s));
  const api = options.api ?? KubeApi.open({ kubeconfig: k8s?.kubeconfig, context: k8s?.context });
  const inventory = await preflight(api, enrolments, options.reachTimeoutMs);
  const nodeList = await api.call('list nodes', () => api.core.listNode());
  const nodes = chooseNodes(nodeList.items, k8s?.nodes, profile.placement);
  const bundleJs = options.bundleJs ?? readWorkloadBundle();
  return new KubernetesSession(api, profile, runId, inventory, nodes, bundleJs);
}

class KubernetesSession implements PlatformSession {
  readonly name = 'kubernetes';
  private readonly created = new Set<string>();
  private deployments = 0;
  private loads = 0;
  private readonly stop = new AbortController();
  private readonly onSignal = (): void => this.stop.abort();
  private closed = false;

  constructor(
    private readonly api: KubeApi,
    private readonly profile: Profile,
    private readonly runId: string,
    private readonly inventory: ClusterInventory,
    private readonly nodes: NodeChoice,
    private readonly bundleJs: string,
  ) {
    // Ctrl-C must also end a wait for pods, or the second Ctrl-C would exit with the namespaces still there.
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private get timeoutMs(): number { return ms(this.profile.kubernetes?.readyTimeout ?? '180s'); }

  async deploy(dataplane: DataPlaneName, placement: Placement, profile: Profile): Promise<DeployedDataPlane> {
    if (this.stop.signal.aborted) throw new MeshbenchError('interrupted');
    const enrolment = enrolmentFor(dataplane, profile.kubernetes);
    this.deployments += 1;
    const clientNode = placement === 'same-node' ? this.nodes.sameNode : this.nodes.crossNode;
    if (clientNode === undefined) throw new BadInputError('cross-node placement needs two schedulable nodes');
    const ctx: WorkloadContext = {
      runId: this.runId,
      namespace: namespaceName(profile.kubernetes?.namespacePrefix ?? 'meshbench', dataplane, this.runId, this.deployments),
      dataplane,
      placement,
      enrolment,
      image: profile.kubernetes?.image ?? defaultImage,
      protocol: profile.workload.protocol,
      serverControls: profile.workload.serverControls,
      serverNode: this.nodes.server,
      clientNode,
    };
    this.created.add(ctx.namespace);
    try {
      return await this.deployInto(ctx);
    } catch (err) {
      // A data plane that did not come up goes at once: the runner may go on with the next one on these nodes.
      await deleteNamespace(this.api, ctx.namespace).catch(() => undefined);
      throw err;
    }
  }

  private async deployInto(ctx: WorkloadContext): Promise<KubernetesDeployed> {
    const { enrolment, dataplane, placement } = ctx;
    for (const manifest of deploymentManifests(ctx, this.bundleJs)) await this.create(manifest);
    const signal = this.stop.signal;
    const waypointPods = enrolment.waypoint
      ? [await waitForReadyPod(this.api, ctx.namespace, `gateway.networking.k8s.io/gateway-name=${waypointName}`, `the waypoint ${ctx.namespace}/${waypointName}`, this.timeoutMs, signal)]
      : [];
    const serverPod = await waitForReadyPod(this.api, ctx.namespace, 'meshbench.io/role=server', `the echo server in ${ctx.namespace}`, this.timeoutMs, signal);
    const agentPods = await this.agentPods(enrolment);
    const nodesUsed = [...new Set([ctx.serverNode, ctx.clientNode])];
    const problems = enrolmentProblems(enrolment, { serverPod, nodes: nodesUsed, agentPods, waypointPods });
    if (problems.length > 0) throw notEnrolled(enrolment, problems);
    const sources = componentSources(enrolment, ctx.namespace, ctx.serverNode, ctx.clientNode, agentPods, waypointPods);
    // The source rides along for the cluster probes (the runner passes components to them as they are).
    const components: KubernetesComponent[] = sources.map((s) => ({ name: s.name, role: s.role, node: s.node, cgroupId: null, v2Path: null, source: s }));
    const deployed: KubernetesDeployed = {
      dataplane,
      placement,
      namespace: ctx.namespace,
      targetUrl: echoTargetUrl(ctx),
      components,
      runLoad: (inv) => this.runLoad(ctx, agentPods, waypointPods, inv),
      // Counting connections on the path needs the probes DaemonSet; without it the platform cannot.
      connectionsOnPath: async () => null,
      resourceSampling: (): ResourceSampling => this.sampler(sources),
    };
    return deployed;
  }

  async remove(deployed: DeployedDataPlane): Promise<void> {
    const namespace = (deployed as KubernetesDeployed).namespace;
    await deleteNamespace(this.api, namespace);
    // The next data plane should not share the nodes with this one's teardown.
    if (await waitNamespaceGone(this.api, namespace, this.timeoutMs)) this.created.delete(namespace);
  }

  async versions(): Promise<Record<string, string>> {
    const v: Record<string, string> = { kubernetesContext: this.api.context };
    // Which mesh stood for which data plane, so a results folder says what "sidecar" meant on this cluster.
    for (const dp of this.profile.dataplanes) {
      const e = enrolmentFor(dp, this.profile.kubernetes);
      v[`dataplane.${dp}`] = `${e.mesh} (${e.mode})`;
    }
    const nodes = await this.api.call('list nodes', () => this.api.core.listNode()).catch(() => undefined);
    for (const n of nodes?.items ?? []) {
      const name = n.metadata?.name ?? '';
      if (![this.nodes.server, this.nodes.crossNode].includes(name)) continue;
      const info = n.status?.nodeInfo;
      const type = n.metadata?.labels?.['node.kubernetes.io/instance-type'];
      v[`node.${name}`] = [`kernel ${info?.kernelVersion ?? '?'}`, info?.containerRuntimeVersion ?? '?', `kubelet ${info?.kubeletVersion ?? '?'}`, `${n.status?.capacity?.cpu ?? '?'} CPUs`, ...(type === undefined ? [] : [type])].join(', ');
    }
    const server = await this.api.call('read the server version', () => this.api.kc.makeApiClient(clientNode().VersionApi).getCode()).catch(() => undefined);
    if (server !== undefined) v.kubernetes = server.gitVersion;
    for (const [part, version] of Object.entries(inventoryVersions(this.inventory))) v[part] = version;
    if (!this.inventory.apiGroups.has('metrics.k8s.io')) v.metricsApi = 'absent: no CPU or memory recorded (install metrics-server)';
    return v;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    // Both: the namespaces this session knows, and any carrying the run's label (created before a crash).
    await Promise.all([...this.created].map((ns) => deleteNamespace(this.api, ns).catch(() => undefined)));
    await deleteLabelledNamespaces(this.api, `${runLabel}=${runLabelValue(this.runId)}`).catch(() => undefined);
    await Promise.all([...this.created].map((ns) => waitNamespaceGone(this.api, ns, 10_000).catch(() => false)));
    this.created.clear();
  }

  private sampler(sources: readonly ComponentSource[]): ResourceSampling {
    if (!this.inventory.apiGroups.has('metrics.k8s.io')) return { start: () => undefined, stop: async () => ({}) };
    return new PodMetricsSampler(this.api, sources, ms(this.profile.kubernetes?.metricsInterval ?? '15s'));
  }

  private async create(m: AnyManifest): Promise<void> {
    const ns = m.metadata?.namespace ?? '';
    const what = `create ${m.kind} ${ns === '' ? '' : `${ns}/`}${m.metadata?.name}`;
    switch (m.kind) {
      case 'Namespace': await this.api.call(what, () => this.api.core.createNamespace({ body: m as V1Namespace, fieldValidation: 'Strict' })); return;
      case 'ConfigMap': await this.api.call(what, () => this.api.core.createNamespacedConfigMap({ namespace: ns, body: m as V1ConfigMap, fieldValidation: 'Strict' })); return;
      case 'Service': await this.api.call(what, () => this.api.core.createNamespacedService({ namespace: ns, body: m as V1Service, fieldValidation: 'Strict' })); return;
      case 'Pod': await this.api.call(what, () => this.api.core.createNamespacedPod({ namespace: ns, body: m as V1Pod, fieldValidation: 'Strict' })); return;
      case 'Deployment': await this.api.call(what, () => this.api.apps.createNamespacedDeployment({ namespace: ns, body: m as V1Deployment, fieldValidation: 'Strict' })); return;
      case 'DaemonSet': await this.api.call(what, () => this.api.apps.createNamespacedDaemonSet({ namespace: ns, body: m as V1DaemonSet, fieldValidation: 'Strict' })); return;
      case 'Gateway': await this.api.call(what, () => this.api.custom.createNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'gateways', body: m, fieldValidation: 'Strict' })); return;
      case 'CiliumNetworkPolicy': await this.api.call(what, () => this.api.custom.createNamespacedCustomObject({ group: 'cilium.io', version: 'v2', namespace: ns, plural: 'ciliumnetworkpolicies', body: m, fieldValidation: 'Strict' })); return;
      default: throw new MeshbenchError(`no way to create ${String(m.kind)}`);
    }
  }

  private async agentPods(e: MeshEnrolment): Promise<Map<string, V1Pod[]>> {
    const out = new Map<string, V1Pod[]>();
    for (const agent of e.nodeAgents) {
      const list = await this.api.call(`list ${agent.name} pods`, () => this.api.core.listPodForAllNamespaces({ labelSelector: agent.selector }));
      out.set(agent.name, list.items);
    }
    return out;
  }

  private async runLoad(ctx: WorkloadContext, agentPods: ReadonlyMap<string, readonly V1Pod[]>, waypointPods: readonly V1Pod[], inv: LoadInvocation): Promise<LoadResult> {
    this.loads += 1;
    const name = `meshbench-load-${this.loads}`;
    const both = new AbortController();
    const abort = (): void => both.abort();
    inv.signal.addEventListener('abort', abort);
    this.stop.signal.addEventListener('abort', abort);
    let follow: AbortController | undefined;
    try {
      const created = await this.api.call(`create the load pod ${ctx.namespace}/${name}`, () => this.api.core.createNamespacedPod({ namespace: ctx.namespace, body: loadPodManifest(ctx, name, inv.args), fieldValidation: 'Strict' }));
      // Sidecars are injected at admission: the created object already shows whether the mesh took the pod.
      const injected = enrolmentProblems({ ...ctx.enrolment, redirectionAnnotation: null, nodeAgents: [], waypoint: false }, { serverPod: created, nodes: [], agentPods, waypointPods });
      if (injected.length > 0) throw notEnrolled(ctx.enrolment, injected);
      const durationMs = ms(this.profile.duration) + ms(this.profile.warmup);
      const running = await waitForContainer(this.api, ctx.namespace, name, 'load', 'started', this.timeoutMs, both.signal);
      const serverPod = await this.api.call('read the echo pods', () => this.api.core.listNamespacedPod({ namespace: ctx.namespace, labelSelector: 'meshbench.io/role=server' }));
      const problems = enrolmentProblems(ctx.enrolment, {
        serverPod: serverPod.items[0] ?? running, clientPod: running, nodes: [...new Set([ctx.serverNode, ctx.clientNode])], agentPods, waypointPods,
      });
      if (problems.length > 0) throw notEnrolled(ctx.enrolment, problems);
      let measuring = false;
      follow = await this.api.log.log(ctx.namespace, name, 'load', eventStream((e) => {
        if (e.event === 'measuring' && !measuring) { measuring = true; inv.onMeasuring(); }
        else if (e.event === 'progress') inv.onProgress(progressOf(e));
      }), { follow: true }).catch(() => undefined); // events are a nicety; the result comes from the full log
      const done = await waitForContainer(this.api, ctx.namespace, name, 'load', 'terminated', durationMs + this.timeoutMs, both.signal);
      const log = await this.api.call(`read the log of ${ctx.namespace}/${name}`, () => this.api.core.readNamespacedPodLog({ namespace: ctx.namespace, name, container: 'load' }));
      const parsed = parseLoadLog(log);
      if ('error' in parsed) throw new MeshbenchError(`the load client in ${ctx.namespace}/${name} failed (exit ${exitCodeOf(done, 'load') ?? '?'}): ${parsed.error}`);
      return parsed.result;
    } catch (err) {
      if (both.signal.aborted) throw new MeshbenchError('interrupted');
      throw err;
    } finally {
      follow?.abort();
      inv.signal.removeEventListener('abort', abort);
      this.stop.signal.removeEventListener('abort', abort);
      await this.api.call(`delete the load pod ${name}`, () => this.api.core.deleteNamespacedPod({ namespace: ctx.namespace, name, gracePeriodSeconds: 0 }), true).catch(() => undefined);
    }
  }
}

interface KubernetesDeployed extends DeployedDataPlane {
  readonly namespace: string;
}

function notEnrolled(e: MeshEnrolment, problems: readonly string[]): EnvironmentError {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new EnvironmentError(`refusing to measure ${e.dataplane} on ${e.mesh}: ${problems[0]}${more}`, `meshbench doctor --kubernetes shows what the cluster has`);
}

