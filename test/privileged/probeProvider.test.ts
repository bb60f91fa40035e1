import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CgroupTree } from '../../harness/cgroupTree';
import { removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import { parseProfile } from '../../harness/profile/profileLoad';
import { openProbeProvider } from '../../harness/probes/probeProvider';
import type { MeasuredComponent } from '../../harness/runner/platformSession';
import { settledBpfLeftovers } from './bpfLeftovers';
import { isRoot } from './netnsLeftovers';

/* The runner's ProbeProvider/StepProbes contract on the real probes: figures, detail with per-request figures,
 * two steps in a row on one loaded set, nothing left after close. */
const workload = path.join(__dirname, 'fixtures', 'probeWorkload.js');

describe('probe provider for the runner (root)', function () {
  this.timeout(30_000);
  const run = `probe-provider-${process.pid}`;

  before(function () {
    if (!isRoot()) this.skip();
  });

  after(async () => {
    if (!isRoot()) return;
    new CgroupTree().remove(run);
    removeEmptyMeshbenchRoots();
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('fills ProbeFigures and detail per component, step after step', async () => {
    const profile = parseProfile(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'profiles', 'quick.yaml'), 'utf8'), 'quick.yaml');
    const provider = await openProbeProvider({ ...profile, probes: { ...profile.probes, enabled: true, sampleHz: 0 } }, (line) => assert.fail(line));
    assert.ok(provider !== undefined);
    try {
      assert.equal(provider.unavailableReason(), null);
      const tree = new CgroupTree();
      const cg = tree.create(`${run}/sleeper`);
      const component: MeasuredComponent = { name: 'sleeper', role: 'server', node: null, cgroupId: cg.id.toString(), v2Path: cg.v2Path };
      for (const sleeps of [20, 30]) {
        const step = provider.open(profile);
        // A component lives through its step: the lean probes read its threads' counters at the end.
        const proc = spawn(process.execPath, [workload, 'sleep', String(sleeps)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PROBE_WORKLOAD_STAY: '1' } });
        tree.enter(cg, proc.pid as number);
        await step.start([component, { name: 'no-cgroup', role: 'client', node: null, cgroupId: null, v2Path: null }]);
        const done = new Promise<void>((resolve) => { let out = ''; proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('done')) resolve(); }); });
        const exited = new Promise((r) => proc.on('exit', r));
        proc.stdin?.write('go\n');
        await done;
        const result = await step.stop(10);
        proc.stdin?.end();
        await exited;
        assert.deepEqual(Object.keys(result.figures), ['sleeper']);
        assert.ok((result.figures.sleeper?.contextSwitchesVoluntary ?? 0) >= sleeps);
        assert.ok((result.figures.sleeper?.syscalls ?? 0) > 0);
        const detail = result.detail.sleeper as { perRequest: { syscallsPerRequest: number } | null; sources: Record<string, string>; syscalls: { countedShare: number } };
        assert.ok(detail.perRequest !== null && detail.perRequest.syscallsPerRequest > 0);
        // The runner's probes are the lean set: switches from the thread counters, syscalls in time slices.
        assert.match(detail.sources.contextSwitches ?? '', /voluntary_ctxt_switches/);
        assert.ok(detail.syscalls.countedShare > 0 && detail.syscalls.countedShare <= 1);
        assert.deepEqual(result.foldedStacks, {});
      }
    } finally {
      await provider.close();
    }
  });
});
