import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { parseProfile } from '../../harness/profile/profileLoad';
import { openPlatform } from '../../harness/runner/platformFactory';
import { describeError } from '../../harness/errors';
import { componentSources, enrolmentProblems } from '../../harness/platforms/kubernetes/enrolmentCheck';
import { connectionFailure } from '../../harness/platforms/kubernetes/kubeClient';
import { parseLoadLog } from '../../harness/platforms/kubernetes/loadPodLog';
import { imageVersion, missingFor, type ClusterInventory, type InstalledPart, type MeshPart } from '../../harness/platforms/kubernetes/meshDetect';
import { enrolmentFor } from '../../harness/platforms/kubernetes/meshMapping';
import { chooseNodes } from '../../harness/platforms/kubernetes/nodePlacement';
import { parseBytes, parseCpuNanoCores, parseGoDurationMs, sampleOf, summariseMetricSamples } from '../../harness/platforms/kubernetes/podMetricsSampler';
import { describePods, podStartFailure } from '../../harness/platforms/kubernetes/podWait';

const k8s = { readyTimeout: '1s', metricsInterval: '1s' };

function pod(name: string, node: string, o: { containers?: string[]; annotations?: Record<string, string>; ready?: boolean; namespace?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: o.namespace ?? 'ns', ...(o.annotations === undefined ? {} : { annotations: o.annotations }) },
    spec: { nodeName: node, containers: (o.containers ?? ['app']).map((c) => ({ name: c })) },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

function node(name: string, o: { ready?: boolean; taint?: boolean; cordoned?: boolean } = {}): V1Node {
  return {
    metadata: { name },
    spec: { ...(o.cordoned === true ? { unschedulable: true } : {}), ...(o.taint === true ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}) },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

describe('kubernetes platform parts', () => {
  describe('a profile switches platforms by `platform` alone', () => {
    const body = 'dataplanes: [baseline, sidecar, ambient]\nplacement: [same-node, cross-node]\nduration: 10s\nload: {qps: [1000, 0], connections: [8]}\nkubernetes: {context: lab, image: mirror.local/node:20, mesh: istio}\n';
    it('the same file is valid on both and resolves to the same benchmark', () => {
      const netns = parseProfile(`name: p\nplatform: netns\n${body}`, 'a.yaml');
      const kube = parseProfile(`name: p\nplatform: kubernetes\n${body}`, 'b.yaml');
      assert.equal(netns.platform, 'netns');
      assert.equal(kube.platform, 'kubernetes');
      assert.deepEqual({ ...netns, platform: 'x' }, { ...kube, platform: 'x' });
    });
    it('the factory dispatches on it: kubernetes reaches for the kubeconfig', async () => {
      const kube = parseProfile(`name: p\nplatform: kubernetes\n${body.replace('context: lab', 'kubeconfig: /nonexistent/kubeconfig')}`, 'b.yaml');
      const f = await openPlatform(kube, 'r').then(() => assert.fail('no cluster here'), (err: unknown) => describeError(err));
      assert.match(f.line, /no kubeconfig at \/nonexistent\/kubeconfig/);
      assert.equal(f.exitCode, 2);
    });
    it('kubernetes settings are validated strictly like the rest', () => {
      assert.throws(() => parseProfile('name: p\nplatform: kubernetes\ndataplanes: [baseline]\nduration: 1s\nkubernetes: {mesh: consul}\n', 'c.yaml'), /kubernetes\.mesh/);
      assert.throws(() => parseProfile('name: p\nplatform: kubernetes\ndataplanes: [baseline]\nduration: 1s\nkubernetes: {contxt: lab}\n', 'c.yaml'), /contxt/);
      assert.throws(() => parseProfile('name: p\nplatform: kubernetes\ndataplanes: [baseline]\nduration: 1s\nkubernetes: {namespacePrefix: Bad_Prefix}\n', 'c.yaml'), /namespacePrefix/);
    });
  });

  describe('metrics API arithmetic', () => {
    it('parses quantities and Go durations', () => {
      assert.equal(parseCpuNanoCores('250m'), 250_000_000);
      assert.equal(parseCpuNanoCores('123456n'), 123_456);
      assert.equal(parseCpuNanoCores('2'), 2e9);
      assert.equal(parseCpuNanoCores('1500u'), 1_500_000);
      assert.equal(parseBytes('1024Ki'), 1024 * 1024);
      assert.equal(parseBytes('1G'), 1e9);
      assert.equal(parseBytes('12345'), 12345);
      assert.equal(parseGoDurationMs('15s'), 15_000);
      assert.equal(parseGoDurationMs('1m0.5s'), 60_500);
      assert.equal(parseGoDurationMs('10.05s'), 10_050);
      assert.ok(Number.isNaN(parseCpuNanoCores('lots')));
    });

    it('keeps the samples inside the trimmed window, averages CPU, peaks memory', () => {
      const s = (t: number, milli: number, mi: number) => ({ timestampMs: t, windowMs: 10_000, cpuNanoCores: milli * 1e6, memoryBytes: mi * 2 ** 20 });
      // window 0..60 s, trim 10 s: keeps 10..50 s
      const samples = [s(5_000, 900, 99), s(15_000, 100, 10), s(30_000, 300, 30), s(30_000, 300, 30), s(45_000, 200, 20), s(58_000, 900, 99)];
      const r = summariseMetricSamples(samples, 0, 60_000, 10_000, 6000);
      assert.equal(r.samples, 3, 'distinct timestamps inside the window');
      assert.ok(Math.abs(r.cpuCores - 0.2) < 1e-12);
      assert.ok(Math.abs(r.cpuTotalUs - 0.2 * 40e6) < 1e-6);
      // 6000 requests in 60 s → 4000 in the kept 40 s; 8e6 µs / 4000
      assert.ok(Math.abs((r.cpuUsPerRequest ?? 0) - 2000) < 1e-9);
      assert.equal(r.memoryRssBytesPeak, 30 * 2 ** 20);
      assert.equal(r.memoryRssBytesAvg, 20 * 2 ** 20);
    });

    it('a step shorter than the metrics resolution uses the sample whose window covers it; none gives zero samples', () => {
      const r = summariseMetricSamples([{ timestampMs: 14_000, windowMs: 15_000, cpuNanoCores: 5e8, memoryBytes: 1 }], 0, 5_000, 1_000, 100);
      assert.equal(r.samples, 1);
      assert.equal(r.cpuCores, 0.5);
      assert.equal(summariseMetricSamples([], 0, 5_000, 0, 100).samples, 0);
    });

    it('a component is its containers: the app without its sidecar, the sidecar alone', () => {
      const items = [{ metadata: { name: 'echo-1', namespace: 'ns', selfLink: '', creationTimestamp: '' }, timestamp: '2026-01-01T00:00:10Z', window: '10s', containers: [{ name: 'echo', usage: { cpu: '20m', memory: '30Mi' } }, { name: 'istio-proxy', usage: { cpu: '5m', memory: '40Mi' } }] }];
      const source = { name: 'server', role: 'server' as const, node: 'a', namespace: 'ns', podSelector: 'x', containers: ['echo'] };
      assert.deepEqual(sampleOf(source, ['echo-1'], items), { timestampMs: Date.parse('2026-01-01T00:00:10Z'), windowMs: 10_000, cpuNanoCores: 20e6, memoryBytes: 30 * 2 ** 20 });
      assert.equal(sampleOf({ ...source, containers: ['istio-proxy'] }, ['echo-1'], items)?.cpuNanoCores, 5e6);
      assert.equal(sampleOf({ ...source, containers: null }, ['echo-1'], items)?.cpuNanoCores, 25e6);
      assert.equal(sampleOf(source, ['other'], items), undefined);
    });
  });

  describe('enrolment checks', () => {
    const nodes = ['a', 'b'];
    it('a sidecar mesh needs its container in every pod', () => {
      const e = enrolmentFor('sidecar', k8s);
      assert.deepEqual(enrolmentProblems(e, { serverPod: pod('s', 'a', { containers: ['echo', 'istio-proxy'] }), clientPod: pod('c', 'b', { containers: ['load', 'istio-proxy'] }), nodes, agentPods: new Map(), waypointPods: [] }), []);
      const problems = enrolmentProblems(e, { serverPod: pod('s', 'a', { containers: ['echo'] }), nodes, agentPods: new Map(), waypointPods: [] });
      assert.match(problems[0] ?? '', /ns\/s has no istio-proxy container/);
    });
    it('native sidecars (init containers) count', () => {
      const p = pod('s', 'a', { containers: ['echo'] });
      p.spec = { ...p.spec, containers: p.spec?.containers ?? [], initContainers: [{ name: 'linkerd-proxy', restartPolicy: 'Always' }] };
      assert.deepEqual(enrolmentProblems(enrolmentFor('sidecar', { ...k8s, mesh: 'linkerd' }), { serverPod: p, nodes: [], agentPods: new Map(), waypointPods: [] }), []);
    });
    it('ambient needs the CNI annotation and a ready ztunnel on every node used', () => {
      const e = enrolmentFor('ambient', k8s);
      const captured = { 'ambient.istio.io/redirection': 'enabled' };
      const ztunnels = new Map([['ztunnel', [pod('zt-a', 'a', { namespace: 'istio-system' }), pod('zt-b', 'b', { namespace: 'istio-system', ready: false })]]]);
      const problems = enrolmentProblems(e, { serverPod: pod('s', 'a', { annotations: captured }), clientPod: pod('c', 'b'), nodes, agentPods: ztunnels, waypointPods: [] });
      assert.deepEqual(problems, [
        'the load client pod ns/c lacks the annotation ambient.istio.io/redirection=enabled: istio did not capture its traffic',
        'the ztunnel pod on node b is not ready',
      ]);
      assert.match(enrolmentProblems(e, { serverPod: pod('s', 'a', { annotations: captured }), nodes: ['c'], agentPods: ztunnels, waypointPods: [] })[0] ?? '', /no ztunnel pod \(app=ztunnel\) on node c/);
    });
    it('a waypoint must have a ready pod; cilium-envoy is optional', () => {
      assert.deepEqual(enrolmentProblems(enrolmentFor('dual', k8s), { serverPod: pod('s', 'a', { annotations: { 'kmesh.net/redirection': 'enabled' } }), nodes: ['a'], agentPods: new Map([['kmesh', [pod('k', 'a')]]]), waypointPods: [pod('w', 'a', { ready: false })] }), ['the waypoint has no ready pod']);
      assert.deepEqual(enrolmentProblems(enrolmentFor('waypoint', { ...k8s, mesh: 'cilium' }), { serverPod: pod('s', 'a'), nodes: ['a'], agentPods: new Map([['cilium', [pod('c', 'a')]]]), waypointPods: [] }), []);
    });
    it('components: app containers, sidecars, node agents on the nodes used, the waypoint', () => {
      const e = enrolmentFor('waypoint', k8s);
      const zt = new Map([['ztunnel', [pod('zt-a', 'a', { namespace: 'istio-system' }), pod('zt-b', 'b', { namespace: 'istio-system' }), pod('zt-c', 'c', { namespace: 'istio-system' })]]]);
      const c = componentSources(e, 'ns', 'a', 'b', zt, [pod('wp', 'c')]);
      assert.deepEqual(c.map((x) => `${x.name}@${x.node}:${x.podSelector}`), [
        'client@b:meshbench.io/role=client', 'server@a:meshbench.io/role=server', 'b-ztunnel@b:metadata.name=zt-b', 'a-ztunnel@a:metadata.name=zt-a', 'waypoint@c:metadata.name=wp',
      ]);
    });
  });

  describe('what is installed', () => {
    const inv = (parts: Array<[MeshPart, number]>, groups: string[] = []): ClusterInventory => ({
      parts: new Map(parts.map(([part, ready]) => [part, { part, namespace: 'sys', name: part, version: '1', ready } satisfies InstalledPart])),
      apiGroups: new Set(groups),
    });
    it('image tags are versions', () => {
      assert.equal(imageVersion('docker.io/istio/pilot:1.24.2'), '1.24.2');
      assert.equal(imageVersion('quay.io/cilium/cilium:v1.16.5@sha256:abc'), '1.16.5');
      assert.equal(imageVersion('localhost:5000/kmesh'), null);
      assert.equal(imageVersion('localhost:5000/kmesh:v1.0.0'), '1.0.0');
    });
    it('names the first missing piece with its fix', () => {
      assert.equal(missingFor(enrolmentFor('ambient', k8s), inv([['istiod', 1], ['ztunnel', 2]])), null);
      assert.match(missingFor(enrolmentFor('ambient', k8s), inv([['istiod', 1]]))?.line ?? '', /needs istio \(ztunnel: no DaemonSet labelled app=ztunnel/);
      assert.match(missingFor(enrolmentFor('sidecar', k8s), inv([['istiod', 0]]))?.line ?? '', /istiod \(sys\/istiod\) has no ready pod/);
      assert.match(missingFor(enrolmentFor('dual', k8s), inv([['istiod', 1], ['kmesh', 1]]))?.hint ?? '', /Gateway API CRDs/);
      assert.equal(missingFor(enrolmentFor('baseline', k8s), inv([])), null);
    });
  });

  describe('placement', () => {
    it('picks the first schedulable nodes by name, skipping cordoned, tainted and unready ones', () => {
      const c = chooseNodes([node('w3'), node('cp', { taint: true }), node('w1', { cordoned: true }), node('w2'), node('w0', { ready: false })], undefined, ['cross-node']);
      assert.deepEqual(c, { server: 'w2', sameNode: 'w2', crossNode: 'w3' });
    });
    it('explicit nodes win and must exist', () => {
      assert.deepEqual(chooseNodes([node('a'), node('b')], ['b', 'a'], ['cross-node']), { server: 'b', sameNode: 'b', crossNode: 'a' });
      assert.throws(() => chooseNodes([node('a')], ['z'], ['same-node']), /no node named z/);
      assert.throws(() => chooseNodes([node('a', { taint: true })], undefined, ['same-node']), /no schedulable node/);
    });
  });

  describe('the load pod log', () => {
    it('finds the JSON result after the event lines', () => {
      const result = { requestsCompleted: 5, latency: { count: 5 } };
      const log = `{"meshbenchEvent":true,"event":"measuring"}\n{"meshbenchEvent":true,"event":"done","requestsCompleted":5}\n${JSON.stringify(result, null, 2)}\n`;
      assert.deepEqual(parseLoadLog(log), { result });
    });
    it('a failed client gives its last line', () => {
      assert.deepEqual(parseLoadLog('{"meshbenchEvent":true,"event":"measuring"}\nmeshbench: no request succeeded (ECONNREFUSED: 4); is http://x/ up?\n'), { error: 'meshbench: no request succeeded (ECONNREFUSED: 4); is http://x/ up?' });
      assert.deepEqual(parseLoadLog(''), { error: 'no output' });
    });
  });

  describe('pods that will not start', () => {
    it('image pull errors stop the wait; scheduling problems show in the timeout line', () => {
      const p = pod('x', 'a');
      p.status = { phase: 'Pending', containerStatuses: [{ name: 'echo', image: 'mirror/node:20', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }] };
      assert.match(podStartFailure([p]) ?? '', /container echo ImagePullBackOff: Back-off pulling image \(image mirror\/node:20: set kubernetes.image/);
      const q = pod('y', 'a');
      q.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' }] };
      assert.equal(podStartFailure([q]), undefined);
      assert.equal(describePods([q]), 'y: Pending, unschedulable: 0/2 nodes are available: 2 Insufficient cpu.');
    });
  });

  it('the CLI does not load @kubernetes/client-node until a kubernetes command needs it', () => {
    const registry = path.join(__dirname, '..', '..', 'harness', 'commandRegistry.js');
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(registry)}); process.stdout.write(String(Object.keys(require.cache).filter((k) => k.includes('@kubernetes')).length))`], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, '0', 'every command would pay ~0.5 s to load it');
  });

  it('connection failures are recognised through error causes', () => {
    const err = new Error('request to https://10.0.0.1:6443/api failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
    assert.equal(connectionFailure(err), 'ECONNREFUSED');
    assert.equal(connectionFailure(new Error('request failed, reason: unable to verify the first certificate; UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(connectionFailure(new Error('Not Found')), undefined);
  });
});
