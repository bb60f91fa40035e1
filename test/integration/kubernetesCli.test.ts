import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLabel } from '../../harness/platforms/kubernetes/manifests';
import { parseProfile } from '../../harness/profile/profileLoad';
import { loadRun } from '../../harness/results/resultsStore';
import { openPlatform, openProbes } from '../../harness/runner/platformFactory';
import { cliPath } from '../helpers/cli';
import { KubeApiStandIn, type StandInOptions } from '../helpers/kubeApiStandIn';

/*
 * `meshbench run` with a `platform: kubernetes` profile, as a user types it, against the API stand-in:
 * the results folder, bad input's one line and exit 2, Ctrl-C's exit 130 with the namespaces deleted.
 */

interface Started { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill(signal: NodeJS.Signals): void; stderrSoFar(): string }

function start(args: string[]): Started {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  return {
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    kill: (signal) => child.kill(signal),
    stderrSoFar: () => stderr,
  };
}

describe('meshbench run on the kubernetes platform (API stand-in)', function () {
  this.timeout(60_000);
  let tmp: string;
  let standIn: KubeApiStandIn | undefined;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-k8s-cli-')); });
  afterEach(async () => {
    await standIn?.stop();
    standIn = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function setup(options: StandInOptions, dataplanes: string, extra = ''): Promise<{ api: KubeApiStandIn; profile: string }> {
    standIn = new KubeApiStandIn(options);
    await standIn.start();
    const kubeconfig = standIn.writeKubeconfig(path.join(tmp, 'kubeconfig'));
    const profile = path.join(tmp, 'k8s.yaml');
    fs.writeFileSync(profile, [
      'name: k8s-cli', 'platform: kubernetes', `dataplanes: [${dataplanes}]`, 'placement: [same-node]', 'duration: 500ms', 'warmup: 100ms',
      'load: {qps: [100]}', 'kubernetes:', `  kubeconfig: ${kubeconfig}`, '  readyTimeout: 20s', '  metricsInterval: 100ms', extra, '',
    ].join('\n'));
    return { api: standIn, profile };
  }

  it('runs a profile and writes the results folder; probes are off with the reason', async () => {
    const { api, profile } = await setup({}, 'baseline, sidecar');
    const out = path.join(tmp, 'out');
    const r = await start(['run', profile, '-o', out]).done;
    assert.equal(r.code, 0, r.stderr);
    const loaded = loadRun(out);
    assert.equal(loaded.run.status, 'complete');
    assert.deepEqual(loaded.steps.map((s) => s.dataplane), ['baseline', 'sidecar']);
    assert.equal(loaded.steps[0]?.probes.available, false);
    assert.match(r.stderr, /probes off: probes on a cluster run in the meshbench-probes DaemonSet: set kubernetes.probesImage/);
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
  });

  it('bad input ends with one line and exit 2, creating nothing', async () => {
    const { api, profile } = await setup({ installed: ['metrics'] }, 'baseline, ambient');
    const r = await start(['run', profile, '-o', path.join(tmp, 'out')]).done;
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /^meshbench: the ambient data plane needs istio \(istiod: no Deployment labelled app=istiod/);
    assert.deepEqual(api.requests.filter((q) => q.method === 'POST' && !q.path.includes('selfsubjectaccessreviews')), []);
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replace(/kubeconfig: .*/, `kubeconfig: ${path.join(tmp, 'absent')}`));
    const r2 = await start(['run', profile]).done;
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /^meshbench: no kubeconfig at .*absent \(kubernetes\.kubeconfig in the profile\) \(point it at a kubeconfig file/);
  });

  it('after a crash, cleanup --kubernetes deletes the run namespaces and the probes DaemonSet', async () => {
    const { api, profile } = await setup({ probesNamespace: 'privileged', probeAgentScript: path.join(__dirname, '..', 'helpers', 'fakeProbeAgent.js') }, 'baseline', '  probesImage: registry.example/meshbench:0.1.0');
    const loaded = parseProfile(fs.readFileSync(profile, 'utf8'), profile);
    const platform = await openPlatform(loaded, 'run-crashed');
    await platform.deploy('baseline', 'same-node', loaded);
    await openProbes({ ...loaded, probes: { ...loaded.probes, enabled: true } }).catch(() => undefined);
    assert.equal(api.list('namespaces', undefined, runLabel).length, 1);
    assert.equal(api.list('daemonsets', 'meshbench-system').length, 1);
    const kubeconfig = path.join(tmp, 'kubeconfig');
    const r = await start(['cleanup', '--kubernetes', '--kubeconfig', kubeconfig]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^meshbench cleanup: deleting on context stand-in: namespace meshbench-baseline-[0-9a-f]+-1, daemonset meshbench-system\/meshbench-probes-/);
    for (let i = 0; i < 50 && api.list('namespaces', undefined, runLabel).length > 0; i += 1) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
    assert.deepEqual(api.list('daemonsets', 'meshbench-system'), []);
    assert.deepEqual(api.list('pods', 'meshbench-system'), []);
    const again = await start(['cleanup', '--kubernetes', '--kubeconfig', kubeconfig]).done;
    assert.match(again.stdout, /nothing to remove on context stand-in/);
    await platform.close();
  });

  it('Ctrl-C during a step: exit 130, finished steps kept, every namespace deleted', async () => {
    const { api, profile } = await setup({}, 'baseline, sidecar');
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replace('duration: 500ms', 'duration: 4s'));
    const out = path.join(tmp, 'out');
    const run = start(['run', profile, '-o', out]);
    // interrupt once the first step's load pod is running
    for (let i = 0; i < 200 && api.list('pods').filter((p) => p.metadata.name.startsWith('meshbench-load')).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(loadRun(out).run.status, 'partial');
    assert.deepEqual(api.list('namespaces', undefined, runLabel), []);
    assert.equal(api.runningProcesses(), 0);
  });
});
