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
    for (const r of flagged) assert.ok(r.pValue !== null && r.pValue <= 0.05 && r.changePct > 5);
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
});
