import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadRun } from '../../harness/results/resultsStore';
import type { SummaryRecord } from '../../harness/results/summaryTypes';
import { runCli } from '../helpers/cli';
import { describeOnNetns } from './netnsLeftovers';

/*
 * `meshbench run` with `load.search` and `repetitions: {min, max, until}` on the netns platform, as a user
 * runs it: the probes are real clean steps on the baseline's emulated cluster, the summary holds the answer,
 * and nothing remains. Kept short (probes of 400 ms, a search bounded to two rates): the search logic itself
 * is tested on synthetic curves in test/unit/rateSearch.test.ts.
 */
describeOnNetns('meshbench run with load.search and adaptive repetitions (root)', { timeoutMs: 90_000, tmpPrefix: 'search' }, (ctx) => {
  it('searches the baseline between 200 and 400 qps with real probes, and stops repeating a point once it is clear', async () => {
    const profile = path.join(ctx.tmp, 'search.yaml');
    // An objective any machine meets at these rates (errors only: the P99 of a busy CI machine is not ours to
    // promise), so the search must end "at least to" after exactly three probes: 200, then 400, then 400 again
    // (the end of the bracket confirmed). minRequests 80 keeps each probe at its 400 ms.
    fs.writeFileSync(profile, [
      'name: search-test', 'dataplanes: [baseline]', 'duration: 400ms', 'warmup: 100ms',
      'repetitions: {min: 2, max: 3, until: 100%}', 'probes: {enabled: false}',
      'load: {qps: [200], connections: [2], search: {errors: 1%, from: 200, to: 400, duration: 400ms, minRequests: 80, quiet: {below: 100%, wait: 1s}}}', '',
    ].join('\n'));
    const out = path.join(ctx.tmp, 'out');
    const r = await runCli(['run', profile, '--output', out], 80_000);
    assert.equal(r.code, 0, r.stderr);
    const loaded = loadRun(out);
    assert.equal(loaded.run.status, 'complete');
    const headline = loaded.steps.filter((s) => s.search === undefined);
    assert.equal(headline.length, 2, 'until 100 %: the point is clear at min (2) repetitions');
    const probes = loaded.steps.filter((s) => s.search !== undefined);
    assert.deepEqual(probes.map((s) => `${s.loadPoint.qps}:${s.search?.probe}:${s.measurement}`), ['200:1:clean', '400:2:clean', '400:3:clean']);
    // quiet: {below: 100%}: every probe waited exactly one 1 s sample of the real /proc/stat, and recorded it.
    for (const s of probes) assert.ok(s.search?.quietWait?.quiet === true && s.search.quietWait.waitedUs >= 1_000_000 && s.search.quietWait.waitedUs < 1_500_000, `${s.id}: ${JSON.stringify(s.search?.quietWait)}`);
    for (const s of probes) assert.ok((s.window?.durationUs ?? Number.POSITIVE_INFINITY) < 1_000_000, `${s.id}: a ${s.window?.durationUs} µs window, not stretched past minRequests`);
    for (const s of probes) {
      assert.ok(s.load.requestsCompleted > 0 && Math.abs((s.load.actualQps ?? Number.NaN) - s.loadPoint.qps) / s.loadPoint.qps < 0.1, `${s.id}: ${s.load.actualQps} qps`);
      assert.ok(s.resources.server !== undefined && (s.resources.server.cpuUsPerRequest ?? 0) > 0, `${s.id}: server CPU measured`);
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as SummaryRecord;
    assert.equal(summary.groups.length, 1, 'probes are not headline groups');
    assert.equal(summary.groups[0]?.repetitionVerdict?.settled, true);
    const search = summary.searches?.[0];
    assert.equal(search?.outcome, 'reached-to');
    assert.equal(search?.maxQps, 400);
    assert.equal(search?.confirmed, true, 'the end of the bracket was probed twice');
    assert.ok(search?.probes.every((p) => p.verdict === 'pass' && p.cpuUsPerRequest !== null && p.cpuUsPerRequest > 0));
    assert.match(r.stderr, /max rate meeting errors ≤ 1\.0 % \(open loop, c2, 200–400 qps, at most 12 probes\)\n {2}baseline cross-node: ≥ 400 qps/);
    assert.match(r.stderr, /baseline cross-node 200 qps c2: 2 repetitions: P99 interval ±[\d.]+% of its median \(≤ ±100\.0%\): settled/);
  });
});
