import assert from 'node:assert/strict';
import path from 'node:path';
import { BadInputError } from '../../harness/errors';
import { loadRun } from '../../harness/results/resultsStore';
import { compareMarkdown } from '../../reports/compare/compareMarkdown';
import { compareRuns } from '../../reports/compare/compareRuns';
import { syntheticRun } from '../helpers/syntheticRun';

const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'results');

describe('compare (recorded fixtures)', () => {
  it('two runs of the same build: no regression', () => {
    const v = compareRuns(loadRun(path.join(fixtures, 'base')), loadRun(path.join(fixtures, 'same-build')));
    assert.ok(!v.notes.some((n) => /same run/.test(n)), 'two runs are not the same run');
    const self = compareRuns(loadRun(path.join(fixtures, 'base')), loadRun(path.join(fixtures, 'base')));
    assert.ok(self.notes.some((n) => /^base and head are the same run \(.+\): every change is 0 by construction/.test(n)), self.notes.join('\n'));
    assert.match(compareMarkdown(self), /same run/);
    assert.equal(v.verdict, 'pass');
    assert.equal(v.rows.length, 9, '3 data planes × 1 load point × 3 gates');
    assert.ok(v.rows.every((r) => r.verdict !== 'regression'));
    assert.match(compareMarkdown(v), /no regression/);
  });

  it('a run whose sidecar does extra proxy work: regression on the sidecar only', () => {
    const v = compareRuns(loadRun(path.join(fixtures, 'base')), loadRun(path.join(fixtures, 'slowed-sidecar')));
    assert.equal(v.verdict, 'regression');
    const flagged = v.rows.filter((r) => r.verdict === 'regression');
    assert.deepEqual([...new Set(flagged.map((r) => r.dataplane))], ['sidecar']);
    assert.deepEqual(flagged.map((r) => r.metric).sort(), ['cpu.perRequest', 'latency.p50', 'latency.p99']);
    for (const r of flagged) assert.ok(r.pValue !== null && r.pValue <= 0.05 && (r.changePct ?? 0) > 5);
    const md = compareMarkdown(v);
    assert.match(md, /✗ regression \(3 of 9 checks\)/);
    assert.match(md, /Mann–Whitney U/);
  });
});

describe('compare (rules)', () => {
  const run = (o: Parameters<typeof syntheticRun>[0]) => ({ dir: o.runId, ...syntheticRun({ dataplanes: ['baseline', 'sidecar'], repetitions: 5, samplesPerStep: 300, withStacks: false, ...o }) });

  it('refuses different profiles and machines unless forced, and says why', () => {
    const a = run({ runId: 'a', seed: 1 });
    const otherProfile = run({ runId: 'b', seed: 2, profileName: 'nightly' });
    assert.throws(() => compareRuns(a, otherProfile), (e: unknown) => e instanceof BadInputError && e.exitCode === 2 && /different profiles: base ran "synthetic", head ran "nightly"/.test(e.message));
    const otherCpu = run({ runId: 'c', seed: 3, hostname: 'laptop', cpuModel: 'Laptop CPU' });
    assert.throws(() => compareRuns(a, otherCpu), /different machines: CPU Synthetic CPU @ 3.0GHz vs Laptop CPU \(hosts bench-host and laptop\)/);
    const forced = compareRuns(a, otherCpu, { force: true });
    assert.ok(forced.notes.some((n) => /forced: different machines/.test(n)));
    // A fresh CI runner of the same kind has another name but the same hardware: compared, with a note.
    const sameKind = compareRuns(a, run({ runId: 'd', seed: 4, hostname: 'runner-2' }));
    assert.ok(sameKind.notes.some((n) => /different hosts with the same hardware/.test(n)));
  });

  it('lets the threshold alone decide when repetitions are too few for the test, and says so', () => {
    const a = run({ runId: 'a', seed: 1, repetitions: 1 });
    const b = run({ runId: 'b', seed: 2, repetitions: 1, sidecarExtraUs: 40 });
    const v = compareRuns(a, b);
    assert.equal(v.verdict, 'regression');
    assert.ok(v.rows.every((r) => r.pValue === null));
    assert.ok(v.notes.some((n) => /too few repetitions/.test(n)));
  });

  it('gates a throughput drop with a "-5%" gate on max-throughput steps', () => {
    const gates = { 'throughput.max': '-5%' } as const;
    const a = run({ runId: 'a', seed: 1, qps: [0], gates });
    const b = run({ runId: 'b', seed: 2, qps: [0], gates, sidecarExtraUs: 60 });
    const v = compareRuns(a, b);
    const sidecar = v.rows.find((r) => r.dataplane === 'sidecar');
    assert.equal(sidecar?.metric, 'throughput.max');
    assert.ok((sidecar?.changePct ?? 0) < -5);
    assert.equal(sidecar?.verdict, 'regression');
  });

  it('puts an effect size, an interval and a minimum detectable change beside every p', () => {
    const v = compareRuns(run({ runId: 'a', seed: 1 }), run({ runId: 'b', seed: 2, sidecarExtraUs: 40 }));
    for (const r of v.rows) {
      assert.ok(r.effect !== null && r.effect.delta >= -1 && r.effect.delta <= 1);
      assert.ok(r.changeInterval !== null && r.changeInterval.low <= (r.changePct as number) && (r.changePct as number) <= r.changeInterval.high, `${r.changePct} in ${JSON.stringify(r.changeInterval)}`);
      assert.ok(r.detectableChangePct !== null && r.detectableChangePct > 5, 'the allowance plus what the noise hides');
    }
    const slowed = v.rows.find((r) => r.dataplane === 'sidecar' && r.metric === 'latency.p50');
    assert.equal(slowed?.verdict, 'regression');
    assert.equal(slowed?.effect?.delta, 1, 'every slowed repetition above every base one');
    assert.equal(slowed?.effect?.magnitude, 'large');
    assert.deepEqual(v.detectable.map((d) => [d.metric, d.checks]), [['latency.p50', 2], ['latency.p99', 2], ['cpu.perRequest', 2]], 'throughput.max is gated but no step is closed-loop: no check');
    const md = compareMarkdown(v);
    assert.match(md, /\| change \[95 % CI\] \| gate \| p \| δ \| verdict \|/);
    assert.match(md, /\| sidecar \| [^\n]+ \| latency.p50 \| [^\n]+ \| \+\d+\.\d% \[\+\d+\.\d–\+\d+\.\d%\] \| \+5% \| [\d.<]+ \| \+1\.00 \(large\) \| ✗ regression \|/);
    assert.match(md, /Smallest regression these runs would catch/);
    assert.match(md, /- latency\.p99: \+\d+\.\d% at worst \((baseline|sidecar) at [^)]+\), median \+\d+\.\d% over 2 checks/);
  });

  it('with ties at 3 + 3, the exact p keeps a one-step shift from being called significant (p = 0.10)', () => {
    const gates = { 'latency.p50': '+0%' } as const;
    const a = run({ runId: 'a', seed: 1, repetitions: 3, gates });
    const b = run({ runId: 'b', seed: 2, repetitions: 3, gates });
    const setP50 = (r: typeof a, values: readonly number[]) => ({
      ...r,
      steps: r.steps.map((s) => (s.dataplane !== 'sidecar' ? s : { ...s, load: { ...s.load, latency: { ...s.load.latency, percentilesUs: { ...s.load.latency.percentilesUs, 50: values[s.repetition - 1] as number } } } })),
    });
    const v = compareRuns(setP50(a, [10, 10, 11]), setP50(b, [11, 12, 12]));
    const row = v.rows.find((r) => r.dataplane === 'sidecar');
    assert.ok(Math.abs((row?.pValue ?? 0) - 0.1) < 1e-12, `p = ${row?.pValue}`);
    assert.equal(row?.verdict, 'not significant');
  });

  it('a gated metric that cannot be computed is a "not measured" row and a note, never a missing row', () => {
    const a = run({ runId: 'a', seed: 1 });
    const b = run({ runId: 'b', seed: 2 });
    const noProxyCpu = {
      ...b,
      steps: b.steps.map((s) => (s.dataplane !== 'sidecar' ? s : { ...s, resources: { ...s.resources, 'client-proxy': { ...(s.resources['client-proxy'] as NonNullable<typeof s.resources[string]>), cpuUsPerRequest: null } } })),
    };
    const v = compareRuns(a, noProxyCpu);
    assert.equal(v.rows.length, 6, 'baseline and sidecar × three gated metrics: the unmeasured row stays');
    const row = v.rows.find((r) => r.dataplane === 'sidecar' && r.metric === 'cpu.perRequest');
    assert.equal(row?.verdict, 'not measured');
    assert.equal(row?.headMedian, null);
    assert.match(row?.missing ?? '', /head: CPU of client-proxy was not measured/);
    assert.ok(v.notes.some((n) => /sidecar at .*: cpu\.perRequest not measured \(head: CPU of client-proxy was not measured\)/.test(n)));
    const md = compareMarkdown(v);
    assert.match(md, /✓ no regression \(5 checks\) · ⚠ not measured \(1 of 6 checks\)/);
    assert.match(md, /\| sidecar \| [^\n]+ \| cpu\.perRequest \| [^\n]+ \| — µs\/req \| — \| \+5% \| n\/a \| — \| ⚠ not measured \|/);
    // --only-flagged (the nightly comment) keeps it too.
    assert.match(compareMarkdown(v, { onlyFlagged: true }), /⚠ not measured \|/);
    assert.equal(v.verdict, 'pass');
  });

  it('a data plane measured on one side only is bad input (exit 2) unless allowMissing', () => {
    const a = run({ runId: 'a', seed: 1, dataplanes: ['baseline', 'sidecar', 'kernel'] });
    const b = run({ runId: 'b', seed: 2, dataplanes: ['baseline', 'sidecar', 'kernel'] });
    const noKernel = { ...b, steps: b.steps.filter((s) => s.dataplane !== 'kernel') };
    assert.throws(() => compareRuns(a, noKernel), (e: unknown) => e instanceof BadInputError && e.exitCode === 2 && /did not measure the same data planes: kernel at .* is missing in head/.test(e.message) && /--allow-missing/.test(e.userLine()));
    const allowed = compareRuns(a, noKernel, { allowMissing: true });
    assert.ok(allowed.notes.some((n) => /kernel at .* is missing in head: not compared \(--allow-missing\)/.test(n)));
    assert.ok(allowed.rows.every((r) => r.dataplane !== 'kernel'));
  });
});
