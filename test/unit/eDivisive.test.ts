import assert from 'node:assert/strict';
import { eDivisive } from '../../harness/results/stats/eDivisive';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';
import { detectChangePoints } from '../../reports/history/changePoints';
import type { HistoryPoint } from '../../reports/history/historyModel';

/** 60 nightly values with 3 % noise, stepping up by `stepPct` at index `at` (none when at is null). */
function nights(random: () => number, stepPct: number, at: number | null, n = 60): number[] {
  return Array.from({ length: n }, (_, i) => (at !== null && i >= at ? 100 * (1 + stepPct / 100) : 100) * (1 + 0.03 * gaussian(random)));
}

describe('E-divisive means', () => {
  it('finds a 10 % step at run 40 of 60 (3 % noise) at 40 ± 1', () => {
    const random = seededRandom(40);
    const cps = eDivisive(nights(random, 10, 40), { random });
    assert.equal(cps.length, 1, JSON.stringify(cps));
    assert.ok(Math.abs((cps[0]?.index ?? 0) - 40) <= 1, JSON.stringify(cps));
    assert.ok((cps[0]?.pValue ?? 1) <= 0.01);
    // And on 20 more seeded histories, not only a lucky one.
    let near = 0;
    for (let t = 0; t < 20; t += 1) if (eDivisive(nights(random, 10, 40), { random }).some((c) => Math.abs(c.index - 40) <= 1)) near += 1;
    assert.ok(near >= 18, `${near} of 20`);
  });

  it('finds none in at least 95 % of 200 histories of the same noise without a step', () => {
    const random = seededRandom(200);
    let none = 0;
    for (let t = 0; t < 200; t += 1) if (eDivisive(nights(random, 0, null), { random }).length === 0) none += 1;
    assert.ok(none >= 190, `${none} of 200 without a change point`);
  });

  it("finds the published example's changes in mean and in variance (ecp::e.divisive: N(0,1), N(3,1), N(0,2) × 100)", () => {
    // Matteson & James's R package documents this series with change points at 101 and 201 (1-based):
    // a shift of the mean, then of the spread alone, which a test of means cannot see.
    const random = seededRandom(2014);
    const x = [...Array.from({ length: 100 }, () => gaussian(random)), ...Array.from({ length: 100 }, () => 3 + gaussian(random)), ...Array.from({ length: 100 }, () => 2 * gaussian(random))];
    const cps = eDivisive(x, { random, alpha: 0.05, minSize: 30 });
    assert.equal(cps.length, 2, JSON.stringify(cps));
    assert.ok(Math.abs((cps[0]?.index ?? 0) - 100) <= 2 && Math.abs((cps[1]?.index ?? 0) - 200) <= 8, JSON.stringify(cps));
  });

  it('rejects a series with a value that is not a number', () => {
    assert.throws(() => eDivisive([1, 2, Number.NaN], { random: seededRandom(1) }), /not a finite number/);
  });
});

describe('change points in history', () => {
  const point = (i: number, value: number, dataplane = 'sidecar'): HistoryPoint => ({
    runId: `run-${String(i).padStart(2, '0')}`, startedAt: new Date(Date.UTC(2026, 9, 1 + i)).toISOString(), gitCommit: `c${i}`, dataplane, load: '1000 qps × 4 conn', value, repetitions: 3, flagged: false,
  });

  it('marks a step as new when the newest run brings it, with its direction from the gate', () => {
    const random = seededRandom(9);
    // 30 quiet nights, then 3 nights 15 % slower: the change needs 3 runs after it, so the third one makes it.
    const values = [...nights(random, 0, null, 30), ...Array.from({ length: 3 }, () => 115 * (1 + 0.01 * gaussian(random)))];
    const cps = detectChangePoints(values.map((v, i) => point(i, v)), 'latency.p99', 'increase');
    assert.equal(cps.length, 1, JSON.stringify(cps));
    assert.deepEqual([cps[0]?.runId, cps[0]?.direction, cps[0]?.isNew], ['run-30', 'worse', true]);
    assert.ok((cps[0]?.changePct ?? 0) > 10);
    // For throughput the same rise is better.
    assert.equal(detectChangePoints(values.map((v, i) => point(i, v)), 'throughput.max', 'decrease')[0]?.direction, 'better');
    // One night later it is old news.
    const later = detectChangePoints([...values, 115].map((v, i) => point(i, v)), 'latency.p99', 'increase');
    assert.deepEqual(later.map((c) => [c.runId, c.isNew]), [['run-30', false]]);
    // A series the newest run did not measure (its data plane skipped tonight) has nothing new.
    const skipped = detectChangePoints([...values.map((v, i) => point(i, v)), point(33, 100, 'baseline')], 'latency.p99', 'increase');
    assert.deepEqual(skipped.map((c) => [c.runId, c.isNew]), [['run-30', false]]);
  });
});
