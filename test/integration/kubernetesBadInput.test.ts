import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describeError, ExitCode } from '../../harness/errors';
import { kubernetesDoctorChecks } from '../../harness/platforms/kubernetes/kubernetesDoctor';
import { loadKubeConfig } from '../../harness/platforms/kubernetes/kubeClient';
import { runLabel } from '../../harness/platforms/kubernetes/manifests';
import { parseProfile } from '../../harness/profile/profileLoad';
import { openPlatform } from '../../harness/runner/platformFactory';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import { Runner, type RunnerEvents } from '../../harness/runner/runner';
import { cliPath } from '../helpers/cli';
import { KubeApiStandIn, type StandInOptions } from '../helpers/kubeApiStandIn';

/*
 * Bad input on the kubernetes platform: each case is one line naming what to do, exit 2, and nothing
 * created on the (stand-in) cluster.
 */

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The one line a user sees and the exit code, from what openPlatform threw. */
async function failure(p: Promise<unknown>): Promise<{ line: string; exitCode: number }> {
  try {
    await p;
  } catch (err) {
    return describeError(err);
  }
  assert.fail('expected a failure');
}

describe('kubernetes platform: bad input', function () {
  this.timeout(30_000);
  let tmp: string;
  let standIns: KubeApiStandIn[] = [];
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-k8s-bad-')); });
  afterEach(async () => {
    for (const s of standIns) await s.stop();
    standIns = [];
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function cluster(options: StandInOptions = {}): Promise<{ api: KubeApiStandIn; kubeconfig: string }> {
    const standIn = new KubeApiStandIn(options);
    standIns.push(standIn);
    await standIn.start();
    return { api: standIn, kubeconfig: standIn.writeKubeconfig(path.join(tmp, `kubeconfig-${standIns.length}`)) };
  }

  const profile = (kubeconfig: string, dataplanes = 'baseline, sidecar', extra = ''): ReturnType<typeof parseProfile> => parseProfile([
    'name: bad', 'platform: kubernetes', `dataplanes: [${dataplanes}]`, 'duration: 500ms', 'warmup: 100ms', 'probes: {enabled: false}',
    'kubernetes:', `  kubeconfig: ${kubeconfig}`, '  readyTimeout: 5s', '  metricsInterval: 100ms', extra, '',
  ].join('\n'), 'bad.yaml');

  /** Nothing was created: no POST but permission checks, no labelled namespace. */
  function assertNothingCreated(api: KubeApiStandIn): void {
    const posts = api.requests.filter((r) => r.method === 'POST' && !r.path.includes('selfsubjectaccessreviews') && !r.path.includes('dryRun=All'));
    assert.deepEqual(posts, []);
    assert.deepEqual(api.list('pods', 'meshbench-system'), [], 'a dry run leaves nothing');
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  }

  function assertOneLine(f: { line: string; exitCode: number }, pattern: RegExp): void {
    assert.equal(f.exitCode, ExitCode.badInput, f.line);
    assert.ok(!f.line.includes('\n'), `one line: ${f.line}`);
    assert.match(f.line, pattern);
  }

  it('no kubeconfig: says where it looked and how to give one', async () => {
    const emptyHome = fs.mkdtempSync(path.join(tmp, 'home-'));
    assert.throws(() => loadKubeConfig({}, {}, emptyHome), (err: unknown) => {
      assertOneLine(describeError(err), /no kubeconfig: KUBECONFIG is unset and ~\/\.kube\/config does not exist \(point KUBECONFIG at/);
      return true;
    });
    assertOneLine(describeError(captured(() => loadKubeConfig({}, { KUBECONFIG: path.join(tmp, 'nope') }, emptyHome))), /KUBECONFIG=.*names no existing file/);
    assertOneLine(await failure(openPlatform(profile(path.join(tmp, 'missing.yaml')), 'r')), /no kubeconfig at .*missing\.yaml \(kubernetes\.kubeconfig in the profile\)/);
    // the CLI: exit 2 and the line on stderr, no stack trace
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: emptyHome };
    delete env.KUBECONFIG;
    delete env.KUBERNETES_SERVICE_HOST;
    const r = await cli(['cleanup', '--kubernetes'], env);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^meshbench: no kubeconfig/);
  });

  it('a context that is not in the kubeconfig names the ones that are', async () => {
    const { api, kubeconfig } = await cluster();
    assertOneLine(await failure(openPlatform(profile(kubeconfig, 'baseline', '  context: prod'), 'r')), /context "prod" is not in the kubeconfig .* \(contexts: stand-in\)/);
    assert.equal(api.requests.length, 0);
  });

  it('unreachable API: names the server and the kubectl command to check it', async () => {
    const { api, kubeconfig } = await cluster();
    const port = await closedPort();
    const dead = path.join(tmp, 'dead-kubeconfig');
    fs.writeFileSync(dead, fs.readFileSync(kubeconfig, 'utf8').replace(api.url, `https://127.0.0.1:${port}`));
    assertOneLine(await failure(openPlatform(profile(dead), 'r')), new RegExp(`cannot reach the Kubernetes API at https://127\\.0\\.0\\.1:${port} \\(context stand-in: ECONNREFUSED\\) \\(check the cluster and context: kubectl --context stand-in cluster-info\\)`));
    const r = await cli(['cleanup', '--kubernetes', '--kubeconfig', dead], process.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^meshbench: cannot reach the Kubernetes API/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('an API server certificate the kubeconfig does not trust is named as such', async () => {
    const { api, kubeconfig } = await cluster();
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace(/ {4}certificate-authority-data: .*\n/, ''));
    assertOneLine(await failure(openPlatform(profile(kubeconfig), 'r')), /has a certificate the kubeconfig does not trust \(context stand-in: DEPTH_ZERO_SELF_SIGNED_CERT\) \(the cluster's certificate-authority\(-data\) belongs in/);
    assertNothingCreated(api);
  });

  it('rejected credentials (401) say to refresh them', async () => {
    const { api, kubeconfig } = await cluster();
    fs.writeFileSync(kubeconfig, fs.readFileSync(kubeconfig, 'utf8').replace('token: stand-in-token', 'token: expired'));
    assertOneLine(await failure(openPlatform(profile(kubeconfig), 'r')), /rejected the credentials of context stand-in \(401\)/);
    assertNothingCreated(api);
  });

  it('missing permission (SelfSubjectAccessReview denied): names it and the RBAC file, creates nothing', async () => {
    const { api, kubeconfig } = await cluster({ deny: (a) => a.resource === 'pods' && a.verb === 'create' && a.group === '' });
    assertOneLine(await failure(openPlatform(profile(kubeconfig), 'r')), /context stand-in may not create pods \(apply deploy\/kubernetes\/rbac\.yaml/);
    assertNothingCreated(api);
    const r = await cli(['cleanup', '--kubernetes', '--kubeconfig', kubeconfig], process.env);
    assert.equal(r.code, 0, 'cleanup needs only namespaces');
  });

  it('forbidden (403) on a request although the review allowed it: the same kind of line', async () => {
    const { api, kubeconfig } = await cluster({ deny: (a) => a.resource === 'namespaces' && a.verb === 'list', reviewsAllowAll: true });
    const r = await cli(['cleanup', '--kubernetes', '--kubeconfig', kubeconfig], process.env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^meshbench: forbidden to list namespaces labelled meshbench\.io\/run \(context stand-in\): namespaces is forbidden: User "stand-in-user" cannot list resource "namespaces" .* \(apply deploy\/kubernetes\/rbac\.yaml/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assertNothingCreated(api);
  });

  it('a mesh that is not installed: names the mesh, how to install it or drop the data plane, creates nothing', async () => {
    const { api, kubeconfig } = await cluster({ installed: ['metrics'] });
    assertOneLine(await failure(openPlatform(profile(kubeconfig, 'baseline, sidecar'), 'r')),
      /the sidecar data plane needs istio \(istiod: no Deployment labelled app=istiod on the cluster\) \(istioctl install.*or drop sidecar from dataplanes/);
    assertOneLine(await failure(openPlatform(profile(kubeconfig, 'waypoint'), 'r')), /the waypoint data plane needs istio/);
    const { api: api2, kubeconfig: k2 } = await cluster({ installed: ['istio', 'ambient', 'metrics'] });
    assertOneLine(await failure(openPlatform(profile(k2, 'waypoint'), 'r')), /needs the API group gateway\.networking\.k8s\.io.*\(install the Gateway API CRDs/);
    assertNothingCreated(api);
    assertNothingCreated(api2);
  });

  it('cross-node placement on a one-node cluster says what to change', async () => {
    const { api, kubeconfig } = await cluster({ nodes: ['solo'] });
    assertOneLine(await failure(openPlatform(profile(kubeconfig, 'baseline'), 'r')), /cross-node placement needs two schedulable nodes; found 1 \(use placement: \[same-node\]/);
    assertNothingCreated(api);
  });

  it('a mesh that is installed but did not take the pods is refused, not measured, and removed', async () => {
    const { api, kubeconfig } = await cluster({ brokenAdmission: true });
    const p = profile(kubeconfig, 'sidecar');
    const platform = await openPlatform(p, 'run-broken');
    try {
      const f = await failure(platform.deploy('sidecar', 'cross-node', p));
      assert.match(f.line, /^refusing to measure sidecar on istio: the echo server pod meshbench-sidecar-[0-9a-f]+-1\/meshbench-echo-[0-9a-f]+ has no istio-proxy container: istio's injector did not run/);
      assert.equal(f.exitCode, ExitCode.environment, 'the runner names and skips such a data plane; it is never measured');
    } finally {
      await platform.close();
    }
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
    assert.equal(api.runningProcesses(), 0);
  });

  it('the Runner skips and names a data plane whose mesh did not take the pods; the others are measured', async () => {
    const { api, kubeconfig } = await cluster({ brokenAdmission: true });
    const p = profile(kubeconfig, 'baseline, sidecar');
    const platform = await openPlatform(p, 'run-skip');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const quiet: RunnerEvents = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };
    try {
      const outcome = await new Runner({ profile: p, file: 'bad.yaml', hash: 'h', text: '' }, platform, undefined, store, quiet, 'run-skip').run(new AbortController().signal);
      assert.deepEqual(outcome.run.dataplanesSkipped.map((d) => d.dataplane), ['sidecar']);
      assert.match(outcome.run.dataplanesSkipped[0]?.reason ?? '', /refusing to measure sidecar on istio/);
      assert.deepEqual(loadRun(store.dir).steps.map((st) => st.dataplane), ['baseline']);
    } finally {
      await platform.close();
    }
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  });

  it('an image the nodes cannot pull fails fast, naming kubernetes.image', async () => {
    const { api, kubeconfig } = await cluster();
    const p = profile(kubeconfig, 'baseline', '  image: registry.example/unpullable:1');
    const platform = await openPlatform(p, 'run-image');
    try {
      const started = Date.now();
      const f = await failure(platform.deploy('baseline', 'cross-node', p));
      assert.match(f.line, /cannot start: container echo ErrImagePull.*set kubernetes\.image to one the nodes can pull/);
      assert.ok(Date.now() - started < 4000, 'before the ready timeout');
    } finally {
      await platform.close();
    }
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  });

  it('doctor --kubernetes: every row on a complete cluster, the missing ones on a bare one, nothing created', async () => {
    const { api, kubeconfig } = await cluster({ installed: ['istio', 'ambient', 'linkerd', 'cilium', 'kmesh', 'gateway-api', 'metrics'], probesNamespace: 'privileged' });
    const full = await kubernetesDoctorChecks(undefined, kubeconfig);
    assert.deepEqual(full.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`), []);
    assert.deepEqual(full.map((c) => c.name), ['kubernetes context', 'kubernetes API', 'permissions', 'metrics API', 'Istio (istiod)', 'Istio ambient (ztunnel)', 'Linkerd', 'Cilium', 'Kmesh', 'Gateway API', 'nodes', 'privileged pods']);
    assert.match(full.find((c) => c.name === 'Istio (istiod)')?.detail ?? '', /istiod 1\.24\.2 in istio-system/);
    assert.match(full.find((c) => c.name === 'nodes')?.detail ?? '', /2 nodes, 2 schedulable/);
    assertNothingCreated(api);

    const { api: bare, kubeconfig: k2 } = await cluster({ installed: [], nodes: ['solo'], probesNamespace: 'baseline', deny: (a) => a.resource === 'deployments' && a.verb === 'create' });
    const rows = new Map((await kubernetesDoctorChecks(undefined, k2)).map((c) => [c.name, c]));
    assert.equal(rows.get('kubernetes API')?.ok, true);
    assert.match(rows.get('permissions')?.detail ?? '', /denied: create deployments\.apps/);
    assert.equal(rows.get('metrics API')?.ok, false);
    assert.equal(rows.get('Istio (istiod)')?.detail, 'not installed');
    assert.match(rows.get('nodes')?.fix ?? '', /same-node/);
    assert.match(rows.get('privileged pods')?.detail ?? '', /violates PodSecurity "baseline:latest"/);
    assertNothingCreated(bare);

    const noConfig = await kubernetesDoctorChecks('nope', path.join(tmp, 'missing'));
    assert.equal(noConfig.length, 1);
    assert.equal(noConfig[0]?.ok, false);
    assert.equal(noConfig[0]?.core, true);
  });
});

function captured(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}
