import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseProfile } from '../../harness/profile/profileLoad';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import type { SummaryRecord } from '../../harness/results/summaryTypes';
import { openPlatform, openProbes } from '../../harness/runner/platformFactory';
import { Runner } from '../../harness/runner/runner';
import { describeOnNetns } from './netnsLeftovers';

/*
 * A calibration variant on the real netns platform: the runner deploys the baseline again with the control's
 * flags on its echo server, the variant's steps are its own, and the summary compares it with the plain baseline.
 * The counts are the kernel's, so they are asserted exactly (per request the probes saw); CPU only by bounds.
 */
describeOnNetns('calibration variants (root, netns)', { timeoutMs: 120_000, tmpPrefix: 'calibration' }, (ctx) => {
  it('runs baseline+connects=2 beside the plain baseline: 2 more connections opened per request, in the connections category', async () => {
    const text = 'name: cal\ndataplanes: [baseline]\nload: {qps: [300], connections: [2]}\nduration: 1500ms\nwarmup: 300ms\nprobes: {sampleHz: 499}\ncalibration: [connects=2]\n';
    const profile = parseProfile(text, 'cal.yaml');
    const platform = await openPlatform(profile, 'run-cal');
    const { provider } = await openProbes(profile);
    assert.ok(provider !== undefined && provider.unavailableReason() === null, 'the probes can run here');
    const store = ResultsStore.create(path.join(ctx.tmp, 'out'));
    const events = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };
    try {
      const outcome = await new Runner({ profile, file: 'cal.yaml', hash: 'h', text }, platform, provider, store, events, 'run-cal').run(new AbortController().signal);
      assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    } finally {
      await provider?.close();
      await platform.close();
    }
    const { steps } = loadRun(store.dir);
    // One repetition: the plain baseline's clean and instrumented steps share a deployment, then the variant's.
    assert.deepEqual(steps.map((s) => s.id), [
      'baseline-cross-node-300qps-c2-0b-r1', 'baseline-cross-node-300qps-c2-0b-i1',
      'baseline+connects2-cross-node-300qps-c2-0b-r1', 'baseline+connects2-cross-node-300qps-c2-0b-i1',
    ]);
    assert.deepEqual(steps.map((s) => s.variant ?? null), [null, null, 'connects=2', 'connects=2']);
    const summary = JSON.parse(fs.readFileSync(path.join(store.dir, 'summary.json'), 'utf8')) as SummaryRecord;
    assert.deepEqual(summary.groups.map((g) => g.variant ?? null), [null, 'connects=2']);
    assert.equal(summary.echoControlPath, 'connects by the native addon', 'read from the variant echo\'s stop line');
    assert.equal(summary.groups[0]?.breakdown, null, 'the plain baseline is the reference');
    const v = summary.calibration?.[0];
    assert.ok(v !== undefined, 'a calibration verdict');
    // The server opened exactly 2 more TCP connections per request (its own listener: it accepts them too).
    assert.ok(Math.abs((v.counted as number) - 2) < 0.02, `connections opened/request over baseline: ${v.counted}`);
    assert.ok((v.categoryUs as number) > 0 && (v.categoryIntervalUs?.low as number) > 0, `connections category up: ${v.categoryUs} ${JSON.stringify(v.categoryIntervalUs)}`);
    assert.equal(v.bars?.count, true);
    assert.equal(v.bars?.category, true);
  });
});
