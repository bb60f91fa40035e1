import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/*
 * An in-process stand-in for a Kubernetes API server, for tests on a machine without a cluster. It speaks
 * the REST paths @kubernetes/client-node uses (create/get/list/watch/delete on namespaces, pods, services,
 * configmaps, nodes, deployments, daemonsets, gateways and cilium policies; pod logs with follow;
 * metrics.k8s.io; SelfSubjectAccessReview; discovery and /version) with answers shaped after the API
 * reference (test/fixtures/kubernetes). Behind it a tiny "cluster": a scheduler that honours node
 * affinity, admission that injects the meshes' sidecars and CNI annotations, a kubelet that really runs
 * the workloads pods' commands (node + the ConfigMap's bundle) on loopback, a kube-proxy that rewrites the
 * service DNS name to the echo pod's real port, and namespace deletion that kills what ran inside.
 *
 * What it cannot show: a real mesh's data path, real scheduling, admission webhooks, networking, RBAC
 * beyond the rules given to it. Those are the limits the README states.
 */

type Json = Record<string, unknown>;
interface Obj extends Json {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string; resourceVersion?: string; creationTimestamp?: string; deletionTimestamp?: string };
  spec?: Json;
  status?: Json;
}

export type InstalledMesh = 'istio' | 'ambient' | 'linkerd' | 'cilium' | 'kmesh' | 'gateway-api' | 'metrics';

export interface StandInOptions {
  readonly nodes?: readonly string[];
  readonly installed?: readonly InstalledMesh[];
  /** RBAC: true when the user may not do this (SSAR says no and the request gets 403). */
  readonly deny?: (attrs: { verb: string; group: string; resource: string; subresource?: string }) => boolean;
  /** Delay before a started pod turns Ready. */
  readonly readyDelayMs?: number;
  /** The bearer token the kubeconfig carries (others get 401). */
  readonly token?: string;
  /** Meshes installed but not working: no sidecar injection, no CNI capture. */
  readonly brokenAdmission?: boolean;
  /** The probes namespace as deploy/kubernetes/rbac.yaml creates it (privileged), a locked-down one, or none. */
  readonly probesNamespace?: 'privileged' | 'baseline';
  /** SelfSubjectAccessReviews say yes even where `deny` makes the request itself fail (admission, a race with RBAC edits). */
  readonly reviewsAllowAll?: boolean;
  /** The program the kubelet runs for a `probe-agent` container (the probes DaemonSet), with --port 0 --node --cgroup-root. */
  readonly probeAgentScript?: string;
}

interface Resource { group: string; version: string; plural: string; kind: string; namespaced: boolean }

const resources: Resource[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true },
  { group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies', kind: 'CiliumNetworkPolicy', namespaced: true },
];

const fixturesDir = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubernetes');
const fixture = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(fixturesDir, name), 'utf8')) as T;
const fill = <T>(value: T, vars: Record<string, string>): T => JSON.parse(JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_, k: string) => vars[k] ?? '')) as T;

interface Watcher { res: http.ServerResponse; plural: string; namespace: string | undefined; labelSelector: string | undefined; fieldSelector: string | undefined }
interface RunningContainer { child: ChildProcess; log: string; followers: Set<http.ServerResponse>; ended: boolean }

export interface RequestRecord { readonly method: string; readonly path: string; readonly status: number }

/** k=v, k==v, k!=v, k, !k — comma-separated (the equality-based selectors the harness uses). */
export function matchesLabels(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  const l = labels ?? {};
  return selector.split(',').every((term) => {
    const t = term.trim();
    let m = /^([^!=]+)!=(.*)$/.exec(t);
    if (m !== null) return l[m[1] as string] !== m[2];
    m = /^([^!=]+)==?(.*)$/.exec(t);
    if (m !== null) return l[m[1] as string] === m[2];
    if (t.startsWith('!')) return !(t.slice(1) in l);
    return t in l;
  });
}

function matchesFields(obj: Obj, selector: string | undefined): boolean {
  if (selector === undefined || selector === '') return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=') as [string, string];
    if (key === 'metadata.name') return obj.metadata.name === value;
    if (key === 'metadata.namespace') return obj.metadata.namespace === value;
    if (key === 'spec.nodeName') return (obj.spec as { nodeName?: string } | undefined)?.nodeName === value;
    return false;
  });
}

export class KubeApiStandIn {
  readonly requests: RequestRecord[] = [];
  private readonly store = new Map<string, Obj>();
  private readonly watchers = new Set<Watcher>();
  private readonly containers = new Map<string, RunningContainer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: https.Server;
  /** The API server's self-signed certificate (the kubeconfig carries it as certificate-authority-data). */
  private readonly certPem: string;
  private readonly nodes: readonly string[];
  private readonly installed: ReadonlySet<InstalledMesh>;
  private readonly readyDelayMs: number;
  private readonly token: string;
  private revision = 1;
  private tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-standin-'));
  /** The nodes' cgroup v2 mount (one tree for all nodes: pod UIDs keep them apart). */
  readonly cgroupRoot = path.join(this.tmp, 'cgroup');
  url = '';

  constructor(private readonly options: StandInOptions = {}) {
    this.nodes = options.nodes ?? ['node-a', 'node-b'];
    this.installed = new Set(options.installed ?? ['istio', 'ambient', 'gateway-api', 'metrics']);
    this.readyDelayMs = options.readyDelayMs ?? 30;
    this.token = options.token ?? 'stand-in-token';
    const { cert, key } = selfSignedCert(this.tmp);
    this.certPem = cert;
    this.server = https.createServer({ cert, key }, (req, res) => { this.handle(req, res).catch((err: unknown) => this.send(req, res, 500, { kind: 'Status', code: 500, message: String(err) })); });
    this.seed();
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const w of this.watchers) w.res.end();
    for (const c of this.containers.values()) c.child.kill('SIGKILL');
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** A kubeconfig for this server, as kubectl writes them. */
  writeKubeconfig(file: string, context = 'stand-in'): string {
    fs.writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'preferences: {}',
      'clusters:', `- name: stand-in`, `  cluster:`, `    server: ${this.url}`, `    certificate-authority-data: ${Buffer.from(this.certPem).toString('base64')}`,
      'users:', `- name: stand-in-user`, `  user:`, `    token: ${this.token}`,
      'contexts:', `- name: ${context}`, `  context:`, `    cluster: stand-in`, `    user: stand-in-user`,
      `current-context: ${context}`, '',
    ].join('\n'));
    return file;
  }

  /** Objects of a kind (plural), optionally by namespace and label selector. */
  list(plural: string, namespace?: string, labelSelector?: string): Obj[] {
    return [...this.store.values()].filter((o) => this.resourceOf(o)?.plural === plural && (namespace === undefined || o.metadata.namespace === namespace) && matchesLabels(o.metadata.labels, labelSelector));
  }

  /** Processes the kubelet still runs (pods not deleted). */
  runningProcesses(): number {
    return [...this.containers.values()].filter((c) => !c.ended).length;
  }

  // ---- the fake cluster -------------------------------------------------------------------------

  private seed(): void {
    const node = fixture<Obj>('node.json');
    for (const name of this.nodes) this.put(fill(node, { name }));
    for (const ns of ['default', 'kube-system']) this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
    if (this.options.probesNamespace !== undefined) {
      this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshbench-system', labels: { 'pod-security.kubernetes.io/enforce': this.options.probesNamespace } }, status: { phase: 'Active' } });
    }
    const meshes = fixture<Record<string, Obj[]>>('meshes.json');
    for (const mesh of ['istio', 'ambient', 'linkerd', 'cilium', 'kmesh'] as const) {
      if (!this.installed.has(mesh)) continue;
      for (const o of meshes[mesh] ?? []) {
        const ns = o.metadata.namespace as string;
        if (this.get('namespaces', undefined, ns) === undefined) this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
        if (o.kind === 'DaemonSet') {
          o.status = { currentNumberScheduled: this.nodes.length, desiredNumberScheduled: this.nodes.length, numberMisscheduled: 0, numberReady: this.nodes.length };
          const template = (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: Json } }).template;
          for (const nodeName of this.nodes) {
            this.put({
              apiVersion: 'v1', kind: 'Pod',
              metadata: { name: `${o.metadata.name}-${randomBytes(3).toString('hex')}`, namespace: ns, labels: { ...template.metadata.labels } },
              spec: { ...template.spec, nodeName },
              status: readyStatus(template.spec),
            });
          }
        } else {
          const template = (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: Json } }).template;
          this.put({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${o.metadata.name}-${randomBytes(3).toString('hex')}`, namespace: ns, labels: { ...template.metadata.labels } }, spec: { ...template.spec, nodeName: this.nodes[0] }, status: readyStatus(template.spec) });
        }
        this.put(o);
      }
    }
  }

  private resourceOf(o: Obj): Resource | undefined {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') as [string, string] : ['', o.apiVersion];
    return resources.find((r) => r.kind === o.kind && r.group === group && r.version === version);
  }

  private key(plural: string, namespace: string | undefined, name: string): string {
    return `${plural}/${namespace ?? ''}/${name}`;
  }

  private get(plural: string, namespace: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.key(plural, namespace, name));
  }

  private put(o: Obj): Obj {
    const r = this.resourceOf(o);
    if (r === undefined) throw new Error(`stand-in: unknown kind ${o.apiVersion} ${o.kind}`);
    const k = this.key(r.plural, r.namespaced ? o.metadata.namespace : undefined, o.metadata.name);
    const existed = this.store.has(k);
    o.metadata.uid ??= randomUUID();
    if (o.kind === 'Pod') withImageIds(o);
    o.metadata.creationTimestamp ??= new Date().toISOString();
    this.revision += 1;
    o.metadata.resourceVersion = String(this.revision);
    this.store.set(k, o);
    this.notify(existed ? 'MODIFIED' : 'ADDED', r.plural, o);
    return o;
  }

  private remove(o: Obj): void {
    const r = this.resourceOf(o) as Resource;
    const k = this.key(r.plural, r.namespaced ? o.metadata.namespace : undefined, o.metadata.name);
    if (!this.store.delete(k)) return;
    if (r.plural === 'pods') this.killPod(o);
    this.revision += 1;
    this.notify('DELETED', r.plural, o);
    if (r.plural === 'daemonsets' || r.plural === 'deployments') {
      // The garbage collector: the controller's pods go with it.
      const sel = (o.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
      for (const p of this.list('pods', o.metadata.namespace)) if (Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v)) this.remove(p);
    }
  }

  private notify(type: string, plural: string, o: Obj): void {
    for (const w of this.watchers) {
      if (w.plural !== plural || (w.namespace !== undefined && w.namespace !== o.metadata.namespace)) continue;
      if (!matchesLabels(o.metadata.labels, w.labelSelector) || !matchesFields(o, w.fieldSelector)) continue;
      w.res.write(`${JSON.stringify({ type, object: o })}\n`);
    }
  }

  private later(ms: number, f: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); f(); }, ms);
    this.timers.add(t);
  }

  private namespaceLabels(ns: string | undefined): Record<string, string> {
    return ns === undefined ? {} : this.get('namespaces', undefined, ns)?.metadata.labels ?? {};
  }

  /** Admission: what the meshes' webhooks and CNI plug-ins do to a new pod in an enrolled namespace. */
  private admit(pod: Obj): void {
    if (this.options.brokenAdmission === true) return;
    const nsObj = this.get('namespaces', undefined, pod.metadata.namespace ?? '');
    const labels = nsObj?.metadata.labels ?? {};
    const annotations = nsObj?.metadata.annotations ?? {};
    const spec = pod.spec as { containers: Json[] };
    if (labels['istio-injection'] === 'enabled' && this.installed.has('istio')) spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' });
    if (annotations['linkerd.io/inject'] === 'enabled' && this.installed.has('linkerd')) spec.containers.push({ name: 'linkerd-proxy', image: 'cr.l5d.io/linkerd/proxy:edge-24.11.8' });
    const mode = labels['istio.io/dataplane-mode'];
    pod.metadata.annotations = { ...pod.metadata.annotations };
    if (mode === 'ambient' && this.installed.has('ambient')) pod.metadata.annotations['ambient.istio.io/redirection'] = 'enabled';
    if (mode === 'Kmesh' && this.installed.has('kmesh')) pod.metadata.annotations['kmesh.net/redirection'] = 'enabled';
  }

  /** The scheduler: the node named by a required kubernetes.io/hostname affinity, else the first node. */
  private schedule(pod: Obj): void {
    const spec = pod.spec as { nodeName?: string; affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }> } } } };
    const wanted = spec.nodeName ?? spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In')?.values?.[0];
    if (wanted !== undefined && !this.nodes.includes(wanted)) {
      pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: `0/${this.nodes.length} nodes are available: ${this.nodes.length} node(s) didn't match Pod's node affinity/selector.` }] };
      return;
    }
    spec.nodeName = wanted ?? this.nodes[0];
    pod.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }], containerStatuses: (pod.spec as { containers: Array<{ name: string; image: string }> }).containers.map((c) => ({ name: c.name, image: c.image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })) };
  }

  private createPod(pod: Obj): Obj {
    this.admit(pod);
    this.schedule(pod);
    this.put(pod);
    if ((pod.spec as { nodeName?: string }).nodeName !== undefined) this.later(5, () => this.kubelet(pod));
    return pod;
  }

  /** The kubelet: runs the workloads container for real (node + bundle from the ConfigMap), the rest is pretend. */
  private kubelet(pod: Obj): void {
    if (this.get('pods', pod.metadata.namespace, pod.metadata.name) !== pod) return;
    const containers = (pod.spec as { containers: Array<{ name: string; image: string; command?: string[]; args?: string[] }> }).containers;
    // The node's cgroup v2 tree as the kubelet's systemd driver lays it out, for the probe agents to find.
    const podDir = path.join(this.cgroupRoot, 'kubepods.slice', 'kubepods-burstable.slice', `kubepods-burstable-pod${(pod.metadata.uid ?? '').replace(/-/g, '_')}.slice`);
    for (const c of containers) {
      const dir = path.join(podDir, `cri-containerd-${containerIdFor(pod, c.name)}.scope`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), '');
    }
    const agent = containers.find((c) => c.args?.[0] === 'probe-agent');
    if (agent !== undefined && this.options.probeAgentScript !== undefined) {
      this.runProbeAgent(pod, agent.name, this.options.probeAgentScript);
      return;
    }
    const app = containers.find((c) => c.command?.[0] === 'node' && c.command[1]?.endsWith('/workloads.js'));
    const running = (name: string): Json => ({ name, image: containers.find((c) => c.name === name)?.image, ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date().toISOString() } } });
    if (app === undefined) {
      this.later(this.readyDelayMs, () => this.setStatus(pod, readyStatus(pod.spec as Json)));
      return;
    }
    // An image that takes forever to pull: the pod stays in ContainerCreating (for interrupt tests).
    if (containers.some((c) => c.image.includes('slow-pull'))) return;
    const unpullable = containers.find((c) => c.image.includes('unpullable'));
    if (unpullable !== undefined) {
      this.setStatus(pod, { phase: 'Pending', containerStatuses: [{ name: unpullable.name, image: unpullable.image, ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImagePull', message: `failed to pull image "${unpullable.image}": not found` } } }] });
      return;
    }
    const cm = this.get('configmaps', pod.metadata.namespace, 'meshbench-workloads');
    const bundle = (cm?.data as Record<string, string> | undefined)?.['workloads.js'];
    if (bundle === undefined) {
      this.setStatus(pod, { phase: 'Pending', containerStatuses: [{ name: app.name, image: app.image, ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "meshbench-workloads" not found' } } }] });
      return;
    }
    const dir = path.join(this.tmp, `${pod.metadata.namespace}-${pod.metadata.name}`);
    fs.mkdirSync(dir, { recursive: true });
    const script = path.join(dir, 'workloads.js');
    fs.writeFileSync(script, bundle);
    const args = this.kubeProxy(app.args ?? []);
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const c: RunningContainer = { child, log: '', followers: new Set(), ended: false };
    this.containers.set(`${pod.metadata.namespace}/${pod.metadata.name}/${app.name}`, c);
    const others = containers.filter((x) => x !== app).map((x) => running(x.name));
    const isServer = args[0] === 'echo';
    let ready = false;
    const onData = (d: Buffer): void => {
      c.log += d.toString();
      for (const f of c.followers) f.write(d);
      const listening = /listening on [^:\s]+:(\d+)/.exec(c.log);
      if (isServer && !ready && listening !== null) {
        ready = true;
        pod.metadata.annotations = { ...pod.metadata.annotations, 'stand-in/port': listening[1] as string };
        this.later(this.readyDelayMs, () => this.setStatus(pod, { ...readyStatus(pod.spec as Json), podIP: '127.0.0.1' }));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    if (!isServer) this.setStatus(pod, { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }], containerStatuses: [running(app.name), ...others] });
    child.on('close', (code, signal) => {
      c.ended = true;
      for (const f of c.followers) f.end();
      c.followers.clear();
      if (this.get('pods', pod.metadata.namespace, pod.metadata.name) !== pod) return;
      const exitCode = code ?? (signal === null ? 1 : 137);
      const terminated = { name: app.name, image: app.image, ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: new Date().toISOString() } } };
      // With a classic sidecar (istio-proxy, linkerd-proxy) the pod stays Running after the app exits, as on a cluster.
      const phase = others.length > 0 ? 'Running' : exitCode === 0 ? 'Succeeded' : 'Failed';
      this.setStatus(pod, { phase, conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }], containerStatuses: [terminated, ...others] });
    });
  }

  /** A probes DaemonSet pod: the agent program on loopback, this pod's node and the fake cgroup tree. */
  private runProbeAgent(pod: Obj, container: string, script: string): void {
    const node = (pod.spec as { nodeName: string }).nodeName;
    const env = Object.fromEntries(((pod.spec as { containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }> }).containers.find((c) => c.name === container)?.env ?? [])
      .filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]));
    const child = spawn(process.execPath, [script, '--port', '0', '--node', node, '--cgroup-root', this.cgroupRoot], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const c: RunningContainer = { child, log: '', followers: new Set(), ended: false };
    this.containers.set(`${pod.metadata.namespace}/${pod.metadata.name}/${container}`, c);
    const onData = (d: Buffer): void => {
      const before = c.log;
      c.log += d.toString();
      const m = /listening on port (\d+)/.exec(c.log);
      if (m !== null && !/listening on port \d+/.test(before)) {
        pod.metadata.annotations = { ...pod.metadata.annotations, 'stand-in/port': m[1] as string };
        this.setStatus(pod, readyStatus(pod.spec as Json));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('close', () => { c.ended = true; });
  }

  /** The API server's pod proxy: /api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH to the pod's loopback port. */
  private proxyToPod(req: http.IncomingMessage, res: http.ServerResponse, namespace: string, nameAndPort: string, rest: string): void {
    const pod = this.get('pods', namespace, nameAndPort.split(':')[0] ?? '');
    const port = pod?.metadata.annotations?.['stand-in/port'];
    if (pod === undefined || port === undefined) { this.send(req, res, 503, { kind: 'Status', code: 503, message: `no endpoints available for pod "${nameAndPort}"` }); return; }
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', status: 0 });
    // Like the API server's proxy: the caller's headers go through, its credentials do not.
    const { authorization: _credentials, host: _host, ...headers } = req.headers;
    const upstream = http.request({ host: '127.0.0.1', port: Number(port), path: rest, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
      up.pipe(res);
    });
    upstream.on('error', (err) => this.send(req, res, 503, { kind: 'Status', code: 503, message: `error trying to reach service: ${err.message}` }));
    req.pipe(upstream);
  }

  /** kube-proxy + DNS: a service name in the load client's URL becomes the echo pod's loopback port. */
  private kubeProxy(args: readonly string[]): string[] {
    return args.map((a, i) => {
      // The echo server listens on loopback on any free port (pods have their own network; this machine does not).
      if (args[0] === 'echo' && args[i - 1] === '--host') return '127.0.0.1';
      if (args[0] === 'echo' && args[i - 1] === '--port') return '0';
      const m = /^(https?|tcp):\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)(.*)$/.exec(a);
      if (m === null) return a;
      const [, scheme, svcName, ns, , rest] = m as unknown as [string, string, string, string, string, string];
      const svc = this.get('services', ns, svcName);
      const selector = (svc?.spec as { selector?: Record<string, string> } | undefined)?.selector ?? {};
      const backend = this.list('pods', ns).find((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) && p.metadata.annotations?.['stand-in/port'] !== undefined);
      const port = backend?.metadata.annotations?.['stand-in/port'] ?? '9'; // the discard port: connection refused, as a service without endpoints
      return `${scheme}://127.0.0.1:${port}${rest}`;
    });
  }

  private setStatus(pod: Obj, status: Json): void {
    if (this.get('pods', pod.metadata.namespace, pod.metadata.name) !== pod) return;
    for (const cs of (status.containerStatuses as Array<Record<string, unknown>> | undefined) ?? []) {
      const state = cs.state as { running?: unknown; terminated?: unknown } | undefined;
      if (state?.running !== undefined || state?.terminated !== undefined) cs.containerID = `containerd://${containerIdFor(pod, cs.name as string)}`;
    }
    pod.status = status;
    this.put(pod);
    this.updateOwners(pod.metadata.namespace);
  }

  private updateOwners(ns: string | undefined): void {
    for (const d of this.list('deployments', ns)) {
      const sel = (d.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      const ready = this.list('pods', ns).filter((p) => Object.entries(sel).every(([k, v]) => p.metadata.labels?.[k] === v) && isReady(p)).length;
      if ((d.status as { readyReplicas?: number } | undefined)?.readyReplicas !== ready) { d.status = { replicas: 1, readyReplicas: ready, availableReplicas: ready }; this.put(d); }
    }
  }

  private killPod(pod: Obj): void {
    for (const [k, c] of this.containers) {
      if (!k.startsWith(`${pod.metadata.namespace}/${pod.metadata.name}/`)) continue;
      c.child.kill('SIGKILL');
      for (const f of c.followers) f.end();
      this.containers.delete(k);
    }
  }

  /** Controllers run when an object is created. */
  private reconcile(o: Obj): void {
    if (o.kind === 'Namespace') o.status = { phase: 'Active' };
    if (o.kind === 'Deployment') {
      const template = (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: Json } }).template;
      o.status = { replicas: 1, readyReplicas: 0 };
      this.later(1, () => this.createPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${o.metadata.name}-${randomBytes(4).toString('hex')}`, namespace: o.metadata.namespace, labels: { ...template.metadata.labels } }, spec: JSON.parse(JSON.stringify(template.spec)) as Json }));
    }
    if (o.kind === 'DaemonSet') {
      const template = (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: Json & { affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key: string; values?: string[] }> }> } } } } } }).template;
      const only = template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchExpressions?.find((e) => e.key === 'kubernetes.io/hostname')?.values;
      const nodes = this.nodes.filter((n) => only === undefined || only.includes(n));
      o.status = { currentNumberScheduled: nodes.length, desiredNumberScheduled: nodes.length, numberMisscheduled: 0, numberReady: 0 };
      for (const nodeName of nodes) {
        this.later(1, () => this.createPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${o.metadata.name}-${randomBytes(3).toString('hex')}`, namespace: o.metadata.namespace, labels: { ...template.metadata.labels } }, spec: { ...(JSON.parse(JSON.stringify(template.spec)) as Json), nodeName } }));
      }
    }
    if (o.kind === 'Gateway' && (o.spec as { gatewayClassName?: string }).gatewayClassName === 'istio-waypoint') {
      // istiod's gateway controller: a waypoint Deployment's pod, then the Programmed condition.
      this.later(1, () => {
        this.createPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${o.metadata.name}-${randomBytes(4).toString('hex')}`, namespace: o.metadata.namespace, labels: { 'gateway.networking.k8s.io/gateway-name': o.metadata.name, 'istio.io/gateway-name': o.metadata.name } }, spec: { containers: [{ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' }] } });
        const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        o.status = { conditions: [
          { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Resource accepted', lastTransitionTime: at, observedGeneration: 1 },
          { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Resource programmed, assigned to service(s) meshbench-waypoint.svc.cluster.local:15008', lastTransitionTime: at, observedGeneration: 1 },
        ] };
        this.put(o);
      });
    }
  }

  private deleteNamespace(name: string): void {
    const ns = this.get('namespaces', undefined, name);
    if (ns === undefined) return;
    ns.metadata.deletionTimestamp = new Date().toISOString();
    ns.status = { phase: 'Terminating' };
    this.put(ns);
    // The namespace controller empties it, then the namespace goes.
    this.later(20, () => {
      for (const o of [...this.store.values()]) if (o.metadata.namespace === name) this.remove(o);
      this.remove(ns);
    });
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  private send(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
    this.requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    if (res.headersSent) { res.end(); return; }
    res.writeHead(status, { 'content-type': contentType });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  private status(name: 'forbidden' | 'notFound' | 'alreadyExists' | 'unauthorized' | 'success', vars: Record<string, string>): Json {
    return fill(fixture<Record<string, Json>>('status.json')[name] as Json, { user: 'stand-in-user', ...vars });
  }

  private async body(req: http.IncomingMessage): Promise<Obj> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString() || '{}') as Obj;
  }

  private denied(verb: string, group: string, resource: string, subresource?: string): boolean {
    return this.options.deny?.({ verb, group, resource, ...(subresource === undefined ? {} : { subresource }) }) === true;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.headers.authorization !== `Bearer ${this.token}`) { this.send(req, res, 401, this.status('unauthorized', {})); return; }
    const p = url.pathname.replace(/\/$/, '');
    if (p === '/version') { this.send(req, res, 200, fixture('version.json')); return; }
    if (p === '/apis') {
      const groups = fixture<{ core: Json[]; metrics: Json; gateway: Json; cilium: Json }>('apiGroups.json');
      this.send(req, res, 200, {
        kind: 'APIGroupList', apiVersion: 'v1',
        groups: [...groups.core, ...(this.installed.has('metrics') ? [groups.metrics] : []), ...(this.installed.has('gateway-api') ? [groups.gateway] : []), ...(this.installed.has('cilium') ? [groups.cilium] : [])],
      });
      return;
    }
    const seg = p.split('/').filter((s) => s !== '');
    let group: string; let version: string; let rest: string[];
    if (seg[0] === 'api') { group = ''; version = seg[1] ?? ''; rest = seg.slice(2); } else if (seg[0] === 'apis') { group = seg[1] ?? ''; version = seg[2] ?? ''; rest = seg.slice(3); } else { this.send(req, res, 404, this.status('notFound', { resource: 'path', name: p })); return; }

    if (group === 'authorization.k8s.io' && rest[0] === 'selfsubjectaccessreviews' && req.method === 'POST') {
      const review = await this.body(req);
      const a = (review.spec as { resourceAttributes?: { verb?: string; group?: string; resource?: string; subresource?: string } }).resourceAttributes ?? {};
      const allowed = this.options.reviewsAllowAll === true || !this.denied(a.verb ?? '', a.group ?? '', a.resource ?? '', a.subresource);
      this.send(req, res, 201, { ...review, status: allowed ? { allowed: true } : { allowed: false, reason: 'no RBAC policy matched' } });
      return;
    }
    if (group === 'metrics.k8s.io') {
      if (!this.installed.has('metrics')) { this.send(req, res, 404, this.status('notFound', { resource: 'pods.metrics.k8s.io', name: '' })); return; }
      if (this.denied('list', 'metrics.k8s.io', 'pods')) { this.send(req, res, 403, this.status('forbidden', { verb: 'list', resource: 'pods', group: 'metrics.k8s.io' })); return; }
      const ns = rest[0] === 'namespaces' ? rest[1] : undefined;
      this.send(req, res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: this.list('pods', ns).filter(isReady).map(podMetrics) });
      return;
    }

    let namespace: string | undefined; let plural: string; let name: string | undefined; let sub: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; plural = rest[2] as string; name = rest[3]; sub = rest[4]; } else { plural = rest[0] ?? ''; name = rest[1]; sub = rest[2]; }
    const r = resources.find((x) => x.plural === plural && x.group === group && x.version === version);
    if (r === undefined || (group === 'gateway.networking.k8s.io' && !this.installed.has('gateway-api')) || (group === 'cilium.io' && !this.installed.has('cilium'))) {
      this.send(req, res, 404, this.status('notFound', { resource: plural, name: name ?? '' }));
      return;
    }
    const watch = url.searchParams.get('watch') === 'true';
    const verb = req.method === 'POST' ? 'create' : req.method === 'DELETE' ? 'delete' : name === undefined ? (watch ? 'watch' : 'list') : 'get';
    if (this.denied(verb, group, plural, sub)) { this.send(req, res, 403, this.status('forbidden', { verb, resource: plural, group })); return; }
    const labelSelector = url.searchParams.get('labelSelector') ?? undefined;
    const fieldSelector = url.searchParams.get('fieldSelector') ?? undefined;
    if (plural === 'pods' && sub === 'proxy' && namespace !== undefined && name !== undefined) {
      this.proxyToPod(req, res, namespace, name, `/${rest.slice(5).join('/')}${url.search}`);
      return;
    }

    if (req.method === 'GET' && name === undefined) {
      const items = this.list(plural, namespace, labelSelector).filter((o) => matchesFields(o, fieldSelector));
      if (!watch) { this.send(req, res, 200, { kind: `${r.kind}List`, apiVersion: r.group === '' ? 'v1' : `${r.group}/${r.version}`, metadata: { resourceVersion: String(this.revision) }, items }); return; }
      this.requests.push({ method: 'GET', path: req.url ?? '', status: 200 });
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      const w: Watcher = { res, plural, namespace, labelSelector, fieldSelector };
      for (const o of items) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
      this.watchers.add(w);
      req.on('close', () => this.watchers.delete(w));
      return;
    }
    if (req.method === 'GET' && sub === 'log' && plural === 'pods') {
      const pod = this.get('pods', namespace, name as string);
      if (pod === undefined) { this.send(req, res, 404, this.status('notFound', { resource: 'pods', name: name as string })); return; }
      const container = url.searchParams.get('container') ?? '';
      const c = this.containers.get(`${namespace}/${name}/${container}`);
      if (c === undefined) { this.send(req, res, 400, { kind: 'Status', code: 400, message: `container "${container}" in pod "${name}" is waiting to start` }); return; }
      if (url.searchParams.get('follow') !== 'true' || c.ended) { this.send(req, res, 200, c.log, 'text/plain'); return; }
      this.requests.push({ method: 'GET', path: req.url ?? '', status: 200 });
      res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
      res.write(c.log);
      c.followers.add(res);
      req.on('close', () => c.followers.delete(res));
      return;
    }
    if (req.method === 'GET') {
      const o = this.get(plural, r.namespaced ? namespace : undefined, name as string);
      if (o === undefined) this.send(req, res, 404, this.status('notFound', { resource: plural, name: name as string }));
      else this.send(req, res, 200, o);
      return;
    }
    if (req.method === 'POST' && name === undefined) {
      const o = await this.body(req);
      if (o.kind !== r.kind || typeof o.metadata?.name !== 'string' || o.metadata.name === '') { this.send(req, res, 422, { kind: 'Status', code: 422, reason: 'Invalid', message: `${r.kind}: kind or metadata.name invalid` }); return; }
      if (r.namespaced) {
        if ((o.metadata.namespace ?? namespace) !== namespace) { this.send(req, res, 400, { kind: 'Status', code: 400, message: 'the namespace of the object does not match the namespace of the request' }); return; }
        o.metadata.namespace = namespace;
        const nsObj = this.get('namespaces', undefined, namespace as string);
        if (nsObj === undefined) { this.send(req, res, 404, this.status('notFound', { resource: 'namespaces', name: namespace as string })); return; }
        if (nsObj.metadata.deletionTimestamp !== undefined) { this.send(req, res, 403, { kind: 'Status', code: 403, reason: 'Forbidden', message: `unable to create new content in namespace ${namespace} because it is being terminated` }); return; }
      }
      if (this.get(plural, r.namespaced ? namespace : undefined, o.metadata.name) !== undefined) { this.send(req, res, 409, this.status('alreadyExists', { resource: plural, name: o.metadata.name })); return; }
      const violation = plural === 'pods' ? podSecurityViolation(o, this.namespaceLabels(namespace)['pod-security.kubernetes.io/enforce']) : undefined;
      if (violation !== undefined) { this.send(req, res, 403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 403, reason: 'Forbidden', message: `pods "${o.metadata.name}" is forbidden: ${violation}` }); return; }
      if (url.searchParams.get('dryRun') === 'All') { this.send(req, res, 201, o); return; }
      if (plural === 'pods') this.createPod(o); else { this.reconcile(o); this.put(o); }
      this.send(req, res, 201, o);
      return;
    }
    if (req.method === 'DELETE' && name === undefined) {
      const gone = this.list(plural, namespace, labelSelector).filter((o) => matchesFields(o, fieldSelector));
      for (const o of gone) this.remove(o);
      this.send(req, res, 200, { kind: `${r.kind}List`, apiVersion: r.group === '' ? 'v1' : `${r.group}/${r.version}`, metadata: {}, items: gone });
      return;
    }
    if (req.method === 'DELETE' && name !== undefined) {
      const o = this.get(plural, r.namespaced ? namespace : undefined, name);
      if (o === undefined) { this.send(req, res, 404, this.status('notFound', { resource: plural, name })); return; }
      if (plural === 'namespaces') this.deleteNamespace(name); else this.remove(o);
      this.send(req, res, 200, this.status('success', { resource: plural, name }));
      return;
    }
    this.send(req, res, 405, { kind: 'Status', code: 405, reason: 'MethodNotAllowed', message: `${req.method} ${p}` });
  }
}

/** A throw-away certificate for 127.0.0.1 (openssl, EC P-256, one day). */
function selfSignedCert(dir: string): { cert: string; key: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=kube-apiserver stand-in',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'apiserver.key'), '-out', path.join(dir, 'apiserver.crt')], { stdio: 'ignore' });
  return { cert: fs.readFileSync(path.join(dir, 'apiserver.crt'), 'utf8'), key: fs.readFileSync(path.join(dir, 'apiserver.key'), 'utf8') };
}

/** The kubelet reports the resolved image of every container status (a required field). */
function withImageIds(pod: Obj): void {
  const status = pod.status as { containerStatuses?: Array<Record<string, unknown>>; initContainerStatuses?: Array<Record<string, unknown>> } | undefined;
  for (const cs of [...(status?.containerStatuses ?? []), ...(status?.initContainerStatuses ?? [])]) {
    const image = typeof cs.image === 'string' ? cs.image : '';
    cs.imageID ??= `${image.split(':')[0] ?? image}@sha256:${createHash('sha256').update(image).digest('hex')}`;
  }
}

/** A stable container ID per pod and container, as containerd would have given. */
function containerIdFor(pod: Obj, container: string): string {
  return createHash('sha256').update(`${pod.metadata.uid ?? ''}/${container}`).digest('hex');
}

function readyStatus(spec: Json): Json {
  const containers = (spec.containers as Array<{ name: string; image?: string }> | undefined) ?? [];
  return {
    phase: 'Running',
    conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Initialized', status: 'True' }, { type: 'ContainersReady', status: 'True' }, { type: 'Ready', status: 'True' }],
    containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date().toISOString() } } })),
  };
}

/** Pod Security admission, the part that matters here: privileged and host namespaces under baseline/restricted. */
function podSecurityViolation(pod: Obj, level: string | undefined): string | undefined {
  if (level !== 'baseline' && level !== 'restricted') return undefined;
  const spec = pod.spec as { hostPID?: boolean; containers?: Array<{ name: string; securityContext?: { privileged?: boolean } }> };
  const privileged = spec.containers?.find((c) => c.securityContext?.privileged === true);
  if (privileged === undefined && spec.hostPID !== true) return undefined;
  const parts = [...(spec.hostPID === true ? ['host namespaces (hostPID=true)'] : []), ...(privileged === undefined ? [] : [`privileged (container "${privileged.name}" must not set securityContext.privileged=true)`])];
  return `violates PodSecurity "${level}:latest": ${parts.join(', ')}`;
}

function isReady(p: Obj): boolean {
  const s = p.status as { phase?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
  return s?.phase === 'Running' && (s.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Deterministic usage per container name, so tests can check the arithmetic: 20m CPU, 30 MiB for apps; 5m, 40 MiB for the rest. */
export const standInUsage = (container: string): { cpuMilli: number; memoryMi: number } => (['echo', 'load'].includes(container) ? { cpuMilli: 20, memoryMi: 30 } : { cpuMilli: 5, memoryMi: 40 });

function podMetrics(p: Obj): Json {
  const containers = (p.spec as { containers: Array<{ name: string }> }).containers;
  return {
    metadata: { name: p.metadata.name, namespace: p.metadata.namespace, creationTimestamp: new Date().toISOString(), labels: p.metadata.labels },
    timestamp: new Date().toISOString(),
    window: '10.05s',
    containers: containers.map((c) => ({ name: c.name, usage: { cpu: `${standInUsage(c.name).cpuMilli * 1_000_000}n`, memory: `${standInUsage(c.name).memoryMi * 1024}Ki` } })),
  };
}
