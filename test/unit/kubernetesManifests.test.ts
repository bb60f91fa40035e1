import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { V1Deployment, V1Namespace, V1Service } from '@kubernetes/client-node';
import YAML from 'yaml';
import { dataPlaneNames, type DataPlaneName, type MeshName, type WorkloadProtocol } from '../../harness/profile/profileSchema';
import {
  deploymentManifests, echoArgs, echoTargetUrl, loadPodManifest, namespaceName, probeDaemonSetManifest, runLabel, runLabelValue, type WorkloadContext,
} from '../../harness/platforms/kubernetes/manifests';
import { enrolmentFor, meshesByDataPlane, meshFor } from '../../harness/platforms/kubernetes/meshMapping';
import { cleanupPermissions, probePermissions, requiredPermissions } from '../../harness/platforms/kubernetes/permissions';
import { readWorkloadBundle } from '../../harness/platforms/kubernetes/workloadBundle';
import { validateManifest } from '../helpers/kubernetesSchemas';

const repo = path.join(__dirname, '..', '..', '..');

function context(dataplane: DataPlaneName, mesh: MeshName, placement: 'same-node' | 'cross-node', protocol: WorkloadProtocol = 'http'): WorkloadContext {
  const enrolment = enrolmentFor(dataplane, { meshes: { [dataplane]: mesh }, readyTimeout: '1s', metricsInterval: '1s' });
  return {
    runId: '20261125T085500Z-seed-claims',
    namespace: namespaceName('meshbench', dataplane, '20261125T085500Z-seed-claims', 3),
    dataplane, placement, enrolment, image: 'node:20-bookworm-slim', protocol,
    serverControls: protocol === 'http' ? 'size=1024' : '',
    serverNode: 'node-a', clientNode: placement === 'same-node' ? 'node-a' : 'node-b',
  };
}

const combos = dataPlaneNames.flatMap((dp) => meshesByDataPlane[dp].map((mesh) => [dp, mesh] as const));

describe('kubernetes manifests', () => {
  const bundle = readWorkloadBundle();

  for (const [dp, mesh] of combos) {
    for (const placement of ['same-node', 'cross-node'] as const) {
      it(`${dp} on ${mesh}, ${placement}: every object validates against its Kubernetes (or CRD) schema`, async () => {
        const ctx = context(dp, mesh, placement);
        const objects = [...deploymentManifests(ctx, bundle), loadPodManifest(ctx, 'meshbench-load-1', [echoTargetUrl(ctx), '--qps', '1000', '--duration', '10s'])];
        for (const o of objects) {
          await validateManifest(o).catch((err: unknown) => assert.fail(`${o.kind} ${o.metadata?.name}: ${String(err)}`));
          assert.equal(o.metadata?.labels?.[runLabel], runLabelValue(ctx.runId), `${o.kind} carries the run label`);
          assert.match(o.metadata?.name ?? '', /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        }
      });
    }
  }

  it('the TCP workload validates too', async () => {
    const ctx = context('sidecar', 'istio', 'cross-node', 'tcp');
    for (const o of deploymentManifests(ctx, bundle)) await validateManifest(o);
    assert.equal(echoTargetUrl(ctx), `tcp://meshbench-echo.${ctx.namespace}.svc.cluster.local:8080`);
  });

  it('HTTP/2 and gRPC: the port is named and declared for the mesh, the echo and the client speak it', async () => {
    for (const protocol of ['http2', 'grpc'] as const) {
      const ctx = context('waypoint', 'istio', 'cross-node', protocol);
      const objects = deploymentManifests(ctx, bundle);
      for (const o of objects) await validateManifest(o);
      const service = objects.find((o) => o.kind === 'Service') as V1Service;
      // Istio reads the port name's prefix and appProtocol: "grpc" and "http2" both mean HTTP/2 on the wire.
      assert.deepEqual(service.spec?.ports?.map((p) => [p.name, p.appProtocol]), [[protocol, protocol]]);
      const deployment = objects.find((o) => o.kind === 'Deployment') as V1Deployment;
      const echo = deployment.spec?.template.spec?.containers[0];
      assert.equal(echo?.ports?.[0]?.name, protocol);
      assert.deepEqual(echoArgs(ctx).slice(5, 7), ['--protocol', protocol]);
    }
    assert.match(echoTargetUrl(context('sidecar', 'istio', 'cross-node', 'http2')), /^h2c:\/\/meshbench-echo\.[a-z0-9-]+\.svc\.cluster\.local:8080\/$/);
    assert.match(echoTargetUrl(context('sidecar', 'istio', 'cross-node', 'grpc')), /^grpc:\/\/meshbench-echo\.[a-z0-9-]+\.svc\.cluster\.local:8080$/);
    assert.equal(echoArgs(context('sidecar', 'istio', 'cross-node', 'http')).includes('--protocol'), false);
  });

  it('the validation is real: a broken object is refused', async () => {
    const ctx = context('baseline', 'none', 'same-node');
    const pod = loadPodManifest(ctx, 'x', []);
    const broken = { ...pod, spec: { ...pod.spec, containers: [{ image: 'node' }] } };
    await assert.rejects(validateManifest(broken), /name/);
    await assert.rejects(validateManifest({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'w' }, spec: { listeners: [] } }), /gatewayClassName/);
    await assert.rejects(validateManifest({ apiVersion: 'example.com/v1', kind: 'Thing' }), /no schema/);
    const typo = { ...pod, spec: { ...pod.spec, containers: [{ name: 'a', image: 'node', imagePullPolicyy: 'Always' }] } };
    await assert.rejects(validateManifest(typo), /unknown fields.*spec\.containers\[0\]\.imagePullPolicyy/);
  });

  it('enrols each mesh its documented way', () => {
    const ns = (dp: DataPlaneName, mesh: MeshName): V1Namespace | undefined => deploymentManifests(context(dp, mesh, 'same-node'), '')[0] as V1Namespace | undefined;
    assert.equal(ns('sidecar', 'istio')?.metadata?.labels?.['istio-injection'], 'enabled');
    assert.equal(ns('ambient', 'istio')?.metadata?.labels?.['istio.io/dataplane-mode'], 'ambient');
    assert.equal(ns('waypoint', 'istio')?.metadata?.labels?.['istio.io/use-waypoint'], 'meshbench-waypoint');
    assert.equal(ns('kernel', 'kmesh')?.metadata?.labels?.['istio.io/dataplane-mode'], 'Kmesh');
    const linkerd = ns('sidecar', 'linkerd');
    assert.equal(linkerd?.metadata?.annotations?.['linkerd.io/inject'], 'enabled', 'Linkerd uses an annotation');
    assert.equal(linkerd?.metadata?.labels?.['linkerd.io/inject'], undefined, 'not a label');
    const load = (dp: DataPlaneName, mesh: MeshName): Record<string, string> | undefined => loadPodManifest(context(dp, mesh, 'same-node'), 'l', []).metadata?.annotations;
    assert.equal(load('sidecar', 'istio')?.['proxy.istio.io/config'], '{"holdApplicationUntilProxyStarts": true}', 'the client starts after its sidecar');
    assert.equal(load('sidecar', 'linkerd')?.['config.linkerd.io/proxy-await'], 'enabled');
    assert.equal(load('ambient', 'istio'), undefined);
    const baseline = ns('baseline', 'none');
    assert.deepEqual(Object.keys(baseline?.metadata?.labels ?? {}).filter((k) => k.includes('istio') || k.includes('linkerd')), []);
    const waypoint = deploymentManifests(context('waypoint', 'istio', 'same-node'), '').find((o) => o.kind === 'Gateway') as { spec: { gatewayClassName: string; listeners: Array<{ port: number; protocol: string }> } };
    assert.equal(waypoint.spec.gatewayClassName, 'istio-waypoint');
    assert.deepEqual(waypoint.spec.listeners.map((l) => [l.port, l.protocol]), [[15008, 'HBONE']]);
    const kmeshWaypoint = deploymentManifests(context('dual', 'kmesh', 'same-node'), '').find((o) => o.kind === 'Gateway') as { metadata: { annotations?: Record<string, string> } };
    assert.equal(kmeshWaypoint.metadata.annotations?.['sidecar.istio.io/proxyImage'], 'ghcr.io/kmesh-net/waypoint:latest', 'Kmesh swaps in its waypoint image');
    assert.equal((waypoint as unknown as { metadata: { annotations?: unknown } }).metadata.annotations, undefined);
    const cnp = deploymentManifests(context('waypoint', 'cilium', 'same-node'), '').find((o) => o.kind === 'CiliumNetworkPolicy') as { spec: { ingress: Array<{ toPorts: Array<{ rules: { http: unknown[] } }> }> } };
    assert.ok((cnp.spec.ingress[0]?.toPorts[0]?.rules.http.length ?? 0) > 0, 'Cilium L7 needs http rules');
  });

  it('places the client by node affinity: same node or the other node', () => {
    const nodeOf = (placement: 'same-node' | 'cross-node'): unknown => loadPodManifest(context('baseline', 'none', placement), 'l', []).spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values;
    assert.deepEqual(nodeOf('same-node'), ['node-a']);
    assert.deepEqual(nodeOf('cross-node'), ['node-b']);
  });

  it('maps data planes to meshes: defaults, the profile-wide mesh, per data plane overrides', () => {
    assert.equal(meshFor('sidecar', undefined), 'istio');
    assert.equal(meshFor('kernel', undefined), 'kmesh');
    assert.equal(meshFor('sidecar', { mesh: 'linkerd', readyTimeout: '1s', metricsInterval: '1s' }), 'linkerd');
    assert.equal(meshFor('ambient', { mesh: 'linkerd', readyTimeout: '1s', metricsInterval: '1s' }), 'istio', 'Linkerd has no ambient mode: the default stays');
    assert.equal(meshFor('kernel', { mesh: 'cilium', readyTimeout: '1s', metricsInterval: '1s' }), 'cilium');
    assert.throws(() => meshFor('ambient', { meshes: { ambient: 'linkerd' }, readyTimeout: '1s', metricsInterval: '1s' }), /cannot stand for the ambient data plane/);
  });

  it('names: run label values and namespaces stay valid for any run id', () => {
    const long = `${'x'.repeat(80)}-Profile_Name`;
    assert.ok(runLabelValue(long).length <= 63);
    assert.match(runLabelValue('--weird id!--'), /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/);
    assert.ok(namespaceName('meshbench-a-long-prefix-for-teams', 'baseline', long, 999).length <= 63);
  });

  it('the workloads bundle fits a ConfigMap', () => {
    assert.ok(Buffer.byteLength(bundle) < 900 * 1024, `${Buffer.byteLength(bundle)} bytes`);
  });

  it('the probes DaemonSet and deploy/kubernetes/rbac.yaml validate', async () => {
    await validateManifest(probeDaemonSetManifest({ runId: 'r', namespace: 'meshbench-system', image: 'ghcr.io/example/meshbench:0.1.0', serviceAccountName: 'meshbench-probes', args: ['probe-agent'], token: 't'.repeat(32) }));
    await validateManifest(probeDaemonSetManifest({ runId: '20261125T085500Z-seed-claims', namespace: 'meshbench-system', image: 'i', serviceAccountName: 'meshbench-probes', args: ['probe-agent', '--port', '9464'], nodes: ['a', 'b'], token: 't'.repeat(32) }));
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(repo, 'deploy', 'kubernetes', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as { apiVersion: string; kind: string });
    assert.ok(docs.length >= 5);
    for (const d of docs) await validateManifest(d);
  });

  it('rbac.yaml grants every permission the preflight asks for, and nothing cluster-admin-like', () => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(repo, 'deploy', 'kubernetes', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> });
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'meshbench-runner');
    const rules = role?.rules ?? [];
    const all = [...new Map(combos.map(([dp, mesh]) => [`${dp}/${mesh}`, enrolmentFor(dp, { meshes: { [dp]: mesh }, readyTimeout: '1s', metricsInterval: '1s' })])).values()];
    const nsRole = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'meshbench-runner-probes') as { metadata: { namespace?: string }; rules?: typeof rules } | undefined;
    for (const p of [...requiredPermissions(all), ...cleanupPermissions, ...probePermissions]) {
      const resource = p.subresource === undefined ? p.resource : `${p.resource}/${p.subresource}`;
      const grants = (rs: typeof rules): boolean => rs.some((r) => r.apiGroups.includes(p.group) && r.resources.includes(resource) && r.verbs.includes(p.verb));
      const inRole = p.namespace !== undefined && nsRole?.metadata.namespace === p.namespace && grants(nsRole.rules ?? []);
      assert.ok(grants(rules) || inRole, `rbac.yaml lacks ${p.verb} ${resource} (${p.group})${p.namespace === undefined ? '' : ` in ${p.namespace}`}`);
    }
    assert.ok(!rules.some((r) => r.resources.includes('pods/proxy')), 'pods/proxy only in meshbench-system');
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*') && !r.apiGroups.includes('*'), 'no wildcards');
      assert.ok(!r.resources.includes('secrets'), 'no secrets');
      assert.ok(!r.verbs.some((v) => ['update', 'patch', 'escalate', 'bind', 'impersonate'].includes(v)), `only create/get/list/watch/delete: ${r.verbs.join(',')}`);
    }
  });
});
