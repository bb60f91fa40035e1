import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EchoServer } from '../../workloads/echoServer';
import { parseProfile } from '../../harness/profile/profileLoad';
import type { DataPlaneName, Profile } from '../../harness/profile/profileSchema';
import { EnvironmentError } from '../../harness/errors';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import { Runner, type RunnerEvents } from '../../harness/runner/runner';
import { runLoadProcess } from '../../harness/runner/loadProcess';
import type { DeployedDataPlane, PlatformSession, Placement } from '../../harness/runner/platformSession';

/**
 * The runner's own logic (plan, steps written as they end, partial runs, teardown) against a minimal
 * loopback platform: a real echo server in this process and the real load client as a child process.
 * The data-plane mechanics are tested with the netns platform in test/privileged.
 */
class LoopbackPlatform implements PlatformSession {
  readonly name = 'loopback-test';
  deployed = 0;
  removed = 0;
  closed = 0;
  private servers = new Set<EchoServer>();

  async deploy(dataplane: DataPlaneName, placement: Placement): Promise<DeployedDataPlane> {
    const server = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'http' });
    const port = (await server.listen()).port;
    this.servers.add(server);
    this.deployed += 1;
    return {
      dataplane, placement, targetUrl: `http://127.0.0.1:${port}/`, components: [],
      runLoad: (inv) => runLoadProcess([], inv),
      connectionsOnPath: async () => null,
      close: () => server.close(),
    } as DeployedDataPlane & { close(): Promise<void> };
  }
  async remove(d: DeployedDataPlane): Promise<void> {
    this.removed += 1;
    await (d as DeployedDataPlane & { close(): Promise<void> }).close();
  }
  async versions(): Promise<Record<string, string>> { return { loopback: '1' }; }
  async close(): Promise<void> {
    this.closed += 1;
    for (const s of this.servers) await s.close();
  }
}

const quiet: RunnerEvents = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };

describe('runner', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-run-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const profileText = 'name: t\ndataplanes: [baseline, sidecar]\nduration: 500ms\nwarmup: 100ms\nrepetitions: 2\nload: {qps: [200]}\nprobes: {enabled: false}\n';

  it('writes one record per step, run.json and summary.json, and removes every deployment', async () => {
    const platform = new LoopbackPlatform();
    const profile = parseProfile(profileText, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text: profileText }, platform, undefined, store, quiet, 'run-1').run(new AbortController().signal);
    assert.equal(outcome.run.status, 'complete');
    const loaded = loadRun(store.dir);
    assert.equal(loaded.steps.length, 4);
    assert.deepEqual(loaded.steps.map((s) => `${s.dataplane}r${s.repetition}`), ['baseliner1', 'sidecarr1', 'baseliner2', 'sidecarr2']);
    for (const s of loaded.steps) assert.ok(Math.abs(s.load.requestsCompleted - 100) <= 1, `${s.id}: ${s.load.requestsCompleted}`);
    assert.equal(platform.deployed, 4, 'interleaved: one deployment per data plane per repetition');
    assert.equal(platform.removed, 4);
    assert.equal(outcome.summary.groups.length, 2);
    assert.ok(fs.existsSync(path.join(store.dir, 'summary.json')));
    assert.equal(loaded.run.versions.loopback, '1');
  });

  it('a calibration variant whose deployment fails loses only that deployment; the plain baseline and later rounds still run', async () => {
    // The first deployment of the copies=2 variant fails (as an echo server exiting while starting would).
    class FlakyVariant extends LoopbackPlatform {
      failures = 0;
      override async deploy(dataplane: DataPlaneName, placement: Placement, profile?: Profile): Promise<DeployedDataPlane> {
        if (profile?.workload.serverControls === 'copies=2' && this.failures === 0) {
          this.failures += 1;
          throw new EnvironmentError('server exited while starting');
        }
        return super.deploy(dataplane, placement);
      }
    }
    const platform = new FlakyVariant();
    const text = 'name: t\ndataplanes: [baseline]\nduration: 300ms\nwarmup: 100ms\nrepetitions: 2\nload: {qps: [200]}\nprobes: {enabled: false}\ncalibration: [copies=2]\n';
    const profile = parseProfile(text, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const notes: string[] = [];
    const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text }, platform, undefined, store, { ...quiet, note: (l) => notes.push(l) }, 'run-v').run(new AbortController().signal);
    assert.equal(outcome.run.status, 'complete');
    assert.deepEqual(outcome.run.dataplanesSkipped, [], 'the baseline itself is not skipped');
    assert.deepEqual(loadRun(store.dir).steps.map((s) => s.id.replace(/-cross-node-200qps-c4-0b/, '')), ['baseline-r1', 'baseline-r2', 'baseline+copies2-r2']);
    assert.ok(notes.some((n) => /^skipping calibration variant copies=2 on this deployment: server exited while starting/.test(n)), notes.join('\n'));
  });

  it('a run whose every data plane was skipped measured nothing: it fails (EnvironmentError, run.json failed), not "complete"', async () => {
    class Refusing extends LoopbackPlatform {
      override async deploy(): Promise<DeployedDataPlane> {
        throw new EnvironmentError('a previous meshbench cluster left state (run meshbench cleanup first)');
      }
    }
    const text = 'name: t\ndataplanes: [baseline, sidecar]\nduration: 300ms\nwarmup: 100ms\nrepetitions: 1\nload: {qps: [200]}\nprobes: {enabled: false}\n';
    const profile = parseProfile(text, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    await assert.rejects(
      new Runner({ profile, file: 't.yaml', hash: 'h', text }, new Refusing(), undefined, store, quiet, 'run-s').run(new AbortController().signal),
      (err: unknown) => err instanceof EnvironmentError && /^nothing measured: every data plane was skipped \(baseline: a previous meshbench cluster left state/.test(err.message),
    );
    const run = JSON.parse(fs.readFileSync(path.join(store.dir, 'run.json'), 'utf8')) as { status: string; stepsCompleted: number };
    assert.equal(run.status, 'failed');
    assert.equal(run.stepsCompleted, 0);
  });

  it('a deployment that fails after the interrupt is the interruption: partial with nothing measured, not a failure', async () => {
    // A group-wide SIGINT (terminal Ctrl-C, coreutils timeout) aborts the run and kills the starting echo server.
    const abort = new AbortController();
    class KilledWhileStarting extends LoopbackPlatform {
      override async deploy(): Promise<DeployedDataPlane> {
        this.deployed += 1;
        abort.abort();
        throw new EnvironmentError('server exited while starting: no output');
      }
    }
    const platform = new KilledWhileStarting();
    const profile = parseProfile(profileText, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text: profileText }, platform, undefined, store, quiet, 'run-k').run(abort.signal);
    assert.equal(outcome.run.status, 'partial');
    assert.equal(outcome.run.statusReason, 'interrupted');
    assert.equal(outcome.run.stepsCompleted, 0);
    assert.deepEqual(outcome.run.dataplanesSkipped, [], 'an interrupted deployment does not skip its data plane');
    assert.equal(platform.deployed, 1, 'nothing deployed after the interrupt');
    assert.equal(loadRun(store.dir).run.status, 'partial');
  });

  it('keeps finished steps and marks the run partial when interrupted', async () => {
    const platform = new LoopbackPlatform();
    const profile = parseProfile(profileText, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, 'out'));
    const abort = new AbortController();
    let finished = 0;
    const events: RunnerEvents = { ...quiet, stepFinished: () => { finished += 1; if (finished === 2) setTimeout(() => abort.abort(), 300); } };
    const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text: profileText }, platform, undefined, store, events, 'run-2').run(abort.signal);
    assert.equal(outcome.run.status, 'partial');
    const loaded = loadRun(store.dir);
    assert.equal(loaded.steps.length, 2, 'the interrupted step is not recorded');
    assert.equal(loaded.run.status, 'partial');
    assert.equal(loaded.run.stepsCompleted, 2);
    assert.equal(platform.deployed, platform.removed, 'every deployment removed');
  });
});
