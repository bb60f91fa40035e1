import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../../harness/profile/profileLoad';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import { Runner, type RunnerEvents } from '../../harness/runner/runner';
import { openPlatform, openProbes } from '../../harness/runner/platformFactory';
import { runLabel } from '../../harness/platforms/kubernetes/manifests';
import { KubeApiStandIn, standInUsage, type StandInOptions } from '../helpers/kubeApiStandIn';
import { validateManifest } from '../helpers/kubernetesSchemas';

/*
 * End to end on the kubernetes platform against the API stand-in: a profile with `platform: kubernetes`
 * goes through the same factory and Runner as any other and writes the same results folder. The stand-in
 * really runs the ConfigMap's workloads bundle (echo server, load client) on loopback, so the results
 * carry a real load-client result read from the pod's log. What it cannot show is a real mesh's data path:
 * latencies here are loopback latencies whatever the data plane.
 */

const quiet: RunnerEvents = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };

describe('kubernetes platform against the API stand-in', function () {
  this.timeout(60_000);
  let tmp: string;
  let standIn: KubeApiStandIn | undefined;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-k8s-')); });
  afterEach(async () => {
    await standIn?.stop();
    standIn = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function cluster(options: StandInOptions = {}): Promise<{ standIn: KubeApiStandIn; kubeconfig: string }> {
    standIn = new KubeApiStandIn(options);
    await standIn.start();
    return { standIn, kubeconfig: standIn.writeKubeconfig(path.join(tmp, 'kubeconfig')) };
  }

  const profileText = (kubeconfig: string, dataplanes: string, extra = ''): string => [
    'name: k8s-e2e', 'platform: kubernetes', `dataplanes: [${dataplanes}]`, 'placement: [cross-node]',
    'duration: 600ms', 'warmup: 200ms', 'load: {qps: [200], connections: [2]}', 'probes: {enabled: false}',
    'kubernetes:', `  kubeconfig: ${kubeconfig}`, '  readyTimeout: 20s', '  metricsInterval: 100ms', extra, '',
  ].join('\n');

  async function run(text: string, signal = new AbortController().signal): Promise<{ dir: string; outcome: Awaited<ReturnType<Runner['run']>> }> {
    const profile = parseProfile(text, 'k8s.yaml');
    const platform = await openPlatform(profile, 'run-k8s-1');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    try {
      const outcome = await new Runner({ profile, file: 'k8s.yaml', hash: 'h', text }, platform, undefined, store, quiet, 'run-k8s-1').run(signal);
      return { dir: store.dir, outcome };
    } finally {
      await platform.close();
    }
  }

  it('runs Istio sidecar, ambient and waypoint through the Runner and writes the usual results', async () => {
    const { standIn: api, kubeconfig } = await cluster();
    const { dir, outcome } = await run(profileText(kubeconfig, 'baseline, sidecar, ambient, waypoint'));
    assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    const loaded = loadRun(dir);
    assert.deepEqual(loaded.steps.map((s) => s.dataplane), ['baseline', 'sidecar', 'ambient', 'waypoint']);
    for (const s of loaded.steps) {
      assert.ok(Math.abs(s.load.requestsCompleted - 120) <= 2, `${s.id}: ${s.load.requestsCompleted} requests`);
      assert.equal(s.load.requestsFailed, 0);
      assert.ok((s.load.latency.percentilesUs['50'] ?? 0) > 0);
      assert.equal(s.placement, 'cross-node');
      assert.deepEqual(s.components.find((c) => c.name === 'client')?.node, 'node-b');
      assert.deepEqual(s.components.find((c) => c.name === 'server')?.node, 'node-a');
      // metrics.k8s.io: the stand-in reports 20m CPU and 30 MiB for the app containers
      const server = s.resources.server;
      assert.ok(server !== undefined && server.samples > 0, `${s.id}: server resources ${JSON.stringify(s.resources)}`);
      assert.ok(Math.abs(server.cpuCores - standInUsage('echo').cpuMilli / 1000) < 1e-9, `${server.cpuCores}`);
      assert.equal(server.memoryRssBytesPeak, 30 * 1024 * 1024);
      assert.ok((server.cpuUsPerRequest ?? 0) > 0);
    }
    const names = (dp: string): string[] => loaded.steps.find((s) => s.dataplane === dp)?.components.map((c) => c.name).sort() ?? [];
    assert.deepEqual(names('baseline'), ['client', 'server']);
    assert.deepEqual(names('sidecar'), ['client', 'client-proxy', 'server', 'server-proxy']);
    assert.deepEqual(names('ambient'), ['client', 'node-a-ztunnel', 'node-b-ztunnel', 'server']);
    assert.deepEqual(names('waypoint'), ['client', 'node-a-ztunnel', 'node-b-ztunnel', 'server', 'waypoint']);
    const sidecar = loaded.steps.find((s) => s.dataplane === 'sidecar');
    assert.ok(Math.abs((sidecar?.resources['server-proxy']?.cpuCores ?? 0) - 0.005) < 1e-9, 'the istio-proxy container is measured on its own');
    assert.equal(loaded.run.versions.istiod, '1.24.2');
    assert.equal(loaded.run.versions.kubernetes, 'v1.31.4');
    assert.equal(loaded.run.versions['dataplane.sidecar'], 'istio (istio-sidecar)', 'run.json says which mesh stood for each data plane');
    assert.match(loaded.run.versions['node.node-a'] ?? '', /^kernel 6\.8\.0-49-generic, containerd:\/\/1\.7\.22, kubelet v1\.31\.4, 4 CPUs$/);
    assert.equal(outcome.summary.groups.length, 4, 'the summary (what the reports read) groups kubernetes steps like any other');
    // the client used the real HTTP API: create, watch, follow a log, read metrics, ask for permissions
    const paths = api.requests.map((r) => `${r.method} ${r.path}`);
    assert.ok(paths.some((p) => p.startsWith('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews')));
    assert.ok(paths.some((p) => /GET \/api\/v1\/namespaces\/[^/]+\/pods\?.*watch=true/.test(p)), 'pods are waited for with a watch');
    assert.ok(paths.some((p) => /\/log\?.*follow=true/.test(p)), 'the load pod log is followed for its events');
    assert.ok(paths.some((p) => p.startsWith('GET /apis/metrics.k8s.io/v1beta1/namespaces/')));
    assert.ok(paths.some((p) => p.startsWith('POST /apis/gateway.networking.k8s.io/v1/namespaces/')), 'the waypoint Gateway was created');
    // nothing left behind
    assert.deepEqual(api.list('namespaces', undefined, runLabel).map((n) => n.metadata.name), []);
    assert.equal(api.runningProcesses(), 0);
  });

  it('maps sidecar to Linkerd, waypoint to Cilium L7, kernel and dual to Kmesh', async () => {
    const { standIn: api, kubeconfig } = await cluster({ installed: ['istio', 'linkerd', 'cilium', 'kmesh', 'gateway-api', 'metrics'] });
    const text = profileText(kubeconfig, 'sidecar, waypoint, kernel, dual', '  meshes: {sidecar: linkerd, waypoint: cilium}').replace('placement: [cross-node]', 'placement: [same-node]');
    const { dir, outcome } = await run(text);
    assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    const loaded = loadRun(dir);
    const names = (dp: string): string[] => loaded.steps.find((s) => s.dataplane === dp)?.components.map((c) => c.name).sort() ?? [];
    assert.deepEqual(names('sidecar'), ['client', 'client-proxy', 'server', 'server-proxy']);
    assert.deepEqual(names('waypoint'), ['client', 'node-a-cilium', 'node-a-cilium-envoy', 'server']);
    assert.deepEqual(names('kernel'), ['client', 'node-a-kmesh', 'server']);
    assert.deepEqual(names('dual'), ['client', 'node-a-kmesh', 'server', 'waypoint']);
    const posted = api.requests.filter((r) => r.method === 'POST').map((r) => r.path.split('?')[0] ?? '');
    assert.ok(posted.some((p) => p.includes('/apis/cilium.io/v2/namespaces/') && p.endsWith('/ciliumnetworkpolicies')));
    assert.equal(loaded.run.versions.linkerd, 'edge-24.11.8');
    assert.equal(loaded.run.versions.cilium, '1.16.5');
    assert.equal(loaded.run.versions.kmesh, '1.0.0');
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  });

  it('probes: the DaemonSet comes up on the nodes used, the agents get each component\'s cgroup, the step gets their counters', async () => {
    const { standIn: api, kubeconfig } = await cluster({ probesNamespace: 'privileged', probeAgentScript: path.join(__dirname, '..', 'helpers', 'fakeProbeAgent.js') });
    const text = profileText(kubeconfig, 'baseline, sidecar', '  probesImage: registry.example/meshbench:0.1.0').replace('probes: {enabled: false}', 'probes: {enabled: true}');
    const profile = parseProfile(text, 'k8s.yaml');
    const platform = await openPlatform(profile, 'run-k8s-probes');
    const { provider, note } = await openProbes(profile);
    assert.equal(note, null);
    assert.equal(provider?.unavailableReason(), null);
    assert.equal(api.list('pods', 'meshbench-system').length, 2, 'one agent per node used');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    try {
      const outcome = await new Runner({ profile, file: 'k8s.yaml', hash: 'h', text }, platform, provider, store, quiet, 'run-k8s-probes').run(new AbortController().signal);
      assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    } finally {
      await provider?.close();
      await platform.close();
    }
    const sidecar = loadRun(store.dir).steps.find((s) => s.dataplane === 'sidecar' && s.measurement === 'instrumented');
    assert.equal(sidecar?.probes.available, true);
    assert.deepEqual(Object.keys(sidecar?.probes.figures ?? {}).sort(), ['client', 'client-proxy', 'server', 'server-proxy']);
    const detail = sidecar?.probes.detail as Record<string, { v2Path: string; node: string }>;
    assert.match(detail['server-proxy']?.v2Path ?? '', /kubepods-burstable-pod[0-9a-f_]+\.slice\/cri-containerd-[0-9a-f]{64}\.scope$/);
    assert.notEqual(detail.server?.v2Path, detail['server-proxy']?.v2Path, 'the app and its sidecar are separate cgroups');
    assert.equal(detail.client?.node, 'node-b');
    assert.ok(api.requests.some((r) => r.path.includes('/pods/meshbench-probes-') && r.path.includes(':9464/proxy/v1/start')), 'through the pod proxy');
    assert.deepEqual(api.list('daemonsets', 'meshbench-system'), [], 'the DaemonSet is deleted at the end');
    assert.deepEqual(api.list('pods', 'meshbench-system'), []);
    assert.equal(api.runningProcesses(), 0);
  });

  it('probes without kubernetes.probesImage or without the meshbench-system namespace: off, with the reason', async () => {
    const { standIn: api, kubeconfig } = await cluster();
    const base = profileText(kubeconfig, 'baseline').replace('probes: {enabled: false}', 'probes: {enabled: true}');
    assert.match((await openProbes(parseProfile(base, 'k.yaml'))).provider?.unavailableReason() ?? '', /set kubernetes\.probesImage to an image built from the repository's Dockerfile/);
    const withImage = parseProfile(`${base}  probesImage: registry.example/meshbench:0.1.0\n`, 'k.yaml');
    assert.match((await openProbes(withImage)).provider?.unavailableReason() ?? '', /namespace meshbench-system does not exist \(kubectl apply -f deploy\/kubernetes\/rbac\.yaml/);
    assert.deepEqual(api.list('daemonsets', 'meshbench-system'), []);
  });

  it('the stand-in serves objects that validate against the Kubernetes schemas (its fixtures are API-shaped)', async () => {
    const { standIn: api, kubeconfig } = await cluster({ installed: ['istio', 'ambient', 'linkerd', 'cilium', 'kmesh', 'gateway-api', 'metrics'], probesNamespace: 'privileged' });
    const profile = parseProfile(profileText(kubeconfig, 'waypoint'), 'k8s.yaml');
    const platform = await openPlatform(profile, 'run-k8s-shape');
    try {
      await platform.deploy('waypoint', 'cross-node', profile);
      const kinds = ['namespaces', 'nodes', 'pods', 'services', 'configmaps', 'deployments', 'daemonsets', 'gateways'];
      let checked = 0;
      for (const plural of kinds) {
        for (const o of api.list(plural)) {
          await validateManifest(o).catch((err: unknown) => assert.fail(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${String(err)}`));
          checked += 1;
        }
      }
      assert.ok(checked > 20, `${checked} objects`);
    } finally {
      await platform.close();
    }
  });

  it('Ctrl-C while waiting for pods ends the wait and deletes what was created', async () => {
    const { standIn: api, kubeconfig } = await cluster();
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'helpers', 'kubeInterruptChild.js'), kubeconfig], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('deploying')) resolve(); }));
    // wait until the namespace and the pending pod exist, then interrupt
    for (let i = 0; i < 100 && api.list('pods').filter((p) => p.metadata.namespace?.startsWith('meshbench-')).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.equal(api.list('namespaces', undefined, runLabel).length, 1);
    const started = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 5000, 'not after the 60 s ready timeout');
    assert.match(out, /stopped: interrupted\nclosed\n/);
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  });

  it('an interrupted run keeps its finished steps and deletes every namespace', async () => {
    const { standIn: api, kubeconfig } = await cluster();
    const abort = new AbortController();
    const profile = parseProfile(profileText(kubeconfig, 'baseline, sidecar').replace('duration: 600ms', 'duration: 3s'), 'k8s.yaml');
    const platform = await openPlatform(profile, 'run-k8s-2');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const events: RunnerEvents = { ...quiet, stepFinished: () => { setTimeout(() => abort.abort(), 800); } };
    let outcome;
    try {
      outcome = await new Runner({ profile, file: 'k8s.yaml', hash: 'h', text: '' }, platform, undefined, store, events, 'run-k8s-2').run(abort.signal);
    } finally {
      await platform.close();
    }
    assert.equal(outcome.run.status, 'partial');
    assert.equal(loadRun(store.dir).steps.length, 1);
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
    assert.equal(api.runningProcesses(), 0);
  });
});
