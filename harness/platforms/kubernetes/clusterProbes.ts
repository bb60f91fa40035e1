import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { describeError, EnvironmentError, MeshbenchError } from '../../errors';
import { parseDurationUs } from '../../../workloads/durationParse';
import type { Profile } from '../../profile/profileSchema';
import type { MeasuredComponent, ProbeProvider, StepProbeResult, StepProbes } from '../../runner/platformSession';
import type { ComponentSource } from './enrolmentCheck';
import { isPodReady } from './enrolmentCheck';
import { KubeApi, statusOf } from './kubeClient';
import { probeAgentPort, probeDaemonSetManifest, probesNamespace, runLabel, runLabelValue } from './manifests';
import { chooseNodes } from './nodePlacement';
import { deniedPermissions, describePermission, probePermissions } from './permissions';
import { probeTokenHeader, type ProbeAgentStatus, type ProbeAgentTarget } from './probeAgent';
import { describePods } from './podWait';
import { watchUntil } from './watchUntil';

/*
 * The probes on a cluster: a privileged DaemonSet (image: kubernetes.probesImage, built from the repository's
 * Dockerfile) on the nodes the run uses, one probe agent per node (probeAgent.ts). Each step the runner
 * sends every agent the pod UIDs and container IDs of the components on its node, through the API
 * server's pod proxy, and merges what they return. Anything missing (no image, no namespace, no permission,
 * agents that do not come up or whose kernel refuses the probes) makes the probes unavailable with the
 * reason; the run goes on without them.
 */

/** A component as the kubernetes platform hands it over: where its pod is. */
export interface KubernetesComponent extends MeasuredComponent {
  readonly source: ComponentSource;
}

const unavailable = (reason: string): ProbeProvider => ({
  unavailableReason: () => reason,
  open: (): StepProbes => { throw new MeshbenchError(`cluster probes are unavailable: ${reason}`); },
  close: async () => undefined,
});

export interface ClusterProbeOptions {
  readonly api?: KubeApi;
}

export async function kubernetesProbeProvider(profile: Profile, options: ClusterProbeOptions = {}): Promise<ProbeProvider | undefined> {
  if (!profile.probes.enabled) return undefined;
  const image = profile.kubernetes?.probesImage;
  if (image === undefined) {
    return unavailable('probes on a cluster run in the meshbench-probes DaemonSet: set kubernetes.probesImage to an image built from the repository\'s Dockerfile');
  }
  let api: KubeApi;
  try {
    api = options.api ?? KubeApi.open({ kubeconfig: profile.kubernetes?.kubeconfig, context: profile.kubernetes?.context });
  } catch (err) {
    return unavailable(describeError(err).line);
  }
  const probes = new ClusterProbes(api, profile, image);
  try {
    await probes.start();
    return probes;
  } catch (err) {
    await probes.close();
    return unavailable(describeError(err).line);
  }
}

class ClusterProbes implements ProbeProvider {
  private readonly runId = `probes-${randomBytes(4).toString('hex')}`;
  private readonly token = randomBytes(24).toString('base64url');
  private agents = new Map<string, string>();
  private created = false;

  constructor(private readonly api: KubeApi, private readonly profile: Profile, private readonly image: string) {}

  unavailableReason(): string | null { return null; }

  async start(): Promise<void> {
    const ns = await this.api.call(`read namespace ${probesNamespace}`, () => this.api.core.readNamespace({ name: probesNamespace }), true);
    if (ns === undefined) throw new EnvironmentError(`namespace ${probesNamespace} does not exist`, 'kubectl apply -f deploy/kubernetes/rbac.yaml (it creates it with the privileged Pod Security label)');
    const denied = await deniedPermissions(this.api, probePermissions);
    if (denied.length > 0) throw new EnvironmentError(`context ${this.api.context} may not ${denied.map(describePermission).join(', ')}`, 'apply deploy/kubernetes/rbac.yaml');
    const nodeList = await this.api.call('list nodes', () => this.api.core.listNode());
    const choice = chooseNodes(nodeList.items, this.profile.kubernetes?.nodes, this.profile.placement);
    const nodes = [...new Set([choice.server, ...(this.profile.placement.includes('cross-node') && choice.crossNode !== undefined ? [choice.crossNode] : [])])];
    const manifest = probeDaemonSetManifest({
      runId: this.runId, namespace: probesNamespace, image: this.image, serviceAccountName: 'meshbench-probes', nodes, token: this.token,
      args: ['probe-agent', '--port', String(probeAgentPort)],
    });
    this.created = true;
    await this.api.call(`create the probes DaemonSet in ${probesNamespace}`, () => this.api.apps.createNamespacedDaemonSet({ namespace: probesNamespace, body: manifest, fieldValidation: 'Strict' }));
    const timeoutMs = (parseDurationUs(this.profile.kubernetes?.readyTimeout ?? '180s') ?? 180e6) / 1000;
    const selector = `app=meshbench-probes,${runLabel}=${runLabelValue(this.runId)}`;
    this.agents = await watchUntil<V1Pod, Map<string, string>>({
      api: this.api,
      path: `/api/v1/namespaces/${probesNamespace}/pods`,
      query: { labelSelector: selector },
      until: (pods) => {
        const ready = new Map(pods.filter(isPodReady).map((p) => [p.spec?.nodeName ?? '', p.metadata?.name ?? '']));
        return nodes.every((n) => ready.has(n)) ? ready : undefined;
      },
      timeoutMs,
      describeTimeout: (pods) => `the probes DaemonSet is not ready on ${nodes.join(', ')} after ${Math.round(timeoutMs / 1000)} s (${describePods(pods)})`,
    });
    for (const [node, pod] of this.agents) {
      const status = await this.agentCall(pod, '/v1/open', { profile: this.profile }) as ProbeAgentStatus;
      if (!status.available) throw new EnvironmentError(`the probes on node ${node} are unavailable: ${status.reason ?? 'no reason given'}`);
    }
  }

  open(): StepProbes {
    const started = new Set<string>();
    return {
      start: async (components: readonly MeasuredComponent[]) => {
        const byNode = new Map<string, ProbeAgentTarget[]>();
        for (const c of components) {
          const source = (c as Partial<KubernetesComponent>).source;
          if (source === undefined || c.node === null || !this.agents.has(c.node)) continue;
          const target = await this.targetOf(c, source);
          if (target === undefined) continue;
          byNode.set(c.node, [...(byNode.get(c.node) ?? []), target]);
        }
        for (const [node, targets] of byNode) {
          await this.agentCall(this.agents.get(node) as string, '/v1/start', { profile: this.profile, targets });
          started.add(node);
        }
      },
      stop: async (): Promise<StepProbeResult> => {
        const merged: { figures: StepProbeResult['figures']; detail: Record<string, unknown>; foldedStacks: Record<string, string> } = { figures: {}, detail: {}, foldedStacks: {} };
        for (const node of started) {
          const r = await this.agentCall(this.agents.get(node) as string, '/v1/stop', {}) as StepProbeResult;
          Object.assign(merged.figures, r.figures);
          Object.assign(merged.detail, r.detail);
          Object.assign(merged.foldedStacks, r.foldedStacks);
        }
        started.clear();
        return merged;
      },
    };
  }

  async close(): Promise<void> {
    if (!this.created) return;
    this.created = false;
    await this.api.call('delete the probes DaemonSet', () => this.api.apps.deleteCollectionNamespacedDaemonSet({ namespace: probesNamespace, labelSelector: `${runLabel}=${runLabelValue(this.runId)}` }), true).catch(() => undefined);
  }

  /** The pod UID and container ID of a component, from the API. */
  private async targetOf(c: MeasuredComponent, s: ComponentSource): Promise<ProbeAgentTarget | undefined> {
    const byName = s.podSelector.startsWith('metadata.name=') ? s.podSelector.slice('metadata.name='.length) : undefined;
    const pods = byName === undefined
      ? (await this.api.call(`list pods in ${s.namespace}`, () => this.api.core.listNamespacedPod({ namespace: s.namespace, labelSelector: s.podSelector }))).items
      : [await this.api.call(`read pod ${s.namespace}/${byName}`, () => this.api.core.readNamespacedPod({ namespace: s.namespace, name: byName }))];
    const pod = pods.find((p) => p.spec?.nodeName === c.node && p.status?.phase === 'Running');
    const uid = pod?.metadata?.uid;
    if (pod === undefined || uid === undefined) return undefined;
    const containerName = s.containers?.length === 1 ? (s.containers[0] as string) : null;
    const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((x) => x.name === containerName);
    return { name: c.name, role: c.role, podUid: uid, containerName, containerId: containerName === null ? null : status?.containerID ?? null };
  }

  /** A JSON POST to an agent through the API server's pod proxy (pods/proxy in meshbench-system only). */
  private async agentCall(pod: string, path: string, body: unknown): Promise<unknown> {
    const url = new URL(`${this.api.server}/api/v1/namespaces/${probesNamespace}/pods/${pod}:${probeAgentPort}/proxy${path}`);
    const options: https.RequestOptions = { method: 'POST', headers: { 'content-type': 'application/json', [probeTokenHeader]: this.token } };
    await this.api.kc.applyToHTTPSOptions(options);
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
        let data = '';
        res.on('data', (d: Buffer) => { data += d.toString(); });
        res.on('end', () => {
          let parsed: unknown;
          try { parsed = JSON.parse(data); } catch { parsed = { error: data.slice(0, 200) }; }
          if (res.statusCode === 200) resolve(parsed);
          else {
            const err = Object.assign(new Error((parsed as { error?: string; message?: string }).error ?? (parsed as { message?: string }).message ?? `HTTP ${res.statusCode}`), { statusCode: res.statusCode });
            reject(statusOf(err) === 403 ? this.api.translate(err, `reach the probe agent ${pod}`) : new EnvironmentError(`probe agent ${pod}: ${err.message}`));
          }
        });
      });
      req.on('error', (err) => reject(this.api.translate(err, `reach the probe agent ${pod}`)));
      req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
      req.end(text);
    });
  }
}
