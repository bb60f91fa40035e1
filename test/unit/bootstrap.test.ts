import assert from 'node:assert/strict';
import { medianDifferenceInterval, medianInterval } from '../../harness/results/stats/bootstrap';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';
import { withIntervals } from '../../harness/results/summaryIntervals';
import { summarise } from '../../harness/results/summarise';
import { formatSummaryText } from '../../harness/results/summaryText';
import { latencyByDataPlaneChart } from '../../reports/charts/latencyPercentilesChart';
import { stepRows } from '../../reports/stepRows';
import { syntheticRun } from '../helpers/syntheticRun';

describe('bootstrap intervals', () => {
  it('covers the true median in 93–97 % of 1,000 trials (10 repetitions of a log-normal latency, fixed seed)', () => {
    // Log-normal with σ = 0.3 (a right-skewed latency figure): the true median is e^0 = 1. Ten repetitions: the
    // percentile interval's coverage is a step function of n (its ends settle on order statistics), ~94 % at 10;
    // at 3 repetitions it is the min–max and covers 75 % (next test), so no interval can be claimed as 95 % there.
    const random = seededRandom(2014);
    let covered = 0;
    for (let t = 0; t < 1000; t += 1) {
      const values = Array.from({ length: 10 }, () => Math.exp(0.3 * gaussian(random)));
      const ci = medianInterval(values, { random });
      if (ci !== null && ci.low <= 1 && 1 <= ci.high) covered += 1;
    }
    assert.ok(covered >= 930 && covered <= 970, `covered ${covered} of 1000`);
  });

  it('is the min–max at 3 repetitions, which covers ~75 % (1 − 2·0.5³), and null for one value', () => {
    const random = seededRandom(7);
    let covered = 0;
    for (let t = 0; t < 1000; t += 1) {
      const values = [gaussian(random), gaussian(random), gaussian(random)];
      const ci = medianInterval(values, { random });
      assert.deepEqual([ci?.low, ci?.high], [Math.min(...values), Math.max(...values)]);
      if (ci !== null && ci.low <= 0 && 0 <= ci.high) covered += 1;
    }
    assert.ok(Math.abs(covered / 1000 - 0.75) < 0.04, `${covered}`);
    assert.equal(medianInterval([5], { random }), null);
  });

  it('is deterministic for a seed and brackets a difference of medians', () => {
    const base = [100, 102, 98, 101, 99, 103];
    const head = [110, 112, 108, 111, 109, 113];
    const a = medianDifferenceInterval(base, head, { random: seededRandom(1), relative: true });
    const b = medianDifferenceInterval(base, head, { random: seededRandom(1), relative: true });
    assert.deepEqual(a, b);
    assert.ok(a !== null && a.low > 5 && a.high < 15 && a.low <= 10 && 10 <= a.high, JSON.stringify(a));
    assert.equal(a?.method, 'percentile bootstrap');
  });
});

describe('intervals in the run summary', () => {
  const { steps, run } = syntheticRun({ runId: 'ci', dataplanes: ['baseline', 'sidecar'], repetitions: 5, samplesPerStep: 300, withStacks: false, seed: 4 });
  const summary = summarise(run.runId, 'complete', steps);

  it('puts a 95 % interval on every headline median and on each difference against the baseline', () => {
    for (const g of summary.groups) {
      for (const s of [g.latencyP50Us, g.latencyP99Us, g.actualQps, g.cpuUsPerRequest]) {
        assert.ok(s !== null && s.interval !== undefined && s.interval.low <= s.median && s.median <= s.interval.high && s.interval.level === 0.95);
      }
      if (g.dataplane === 'sidecar') {
        const d = g.latencyAddedP50Us;
        assert.ok(d?.interval !== undefined && d.interval.low <= d.median && d.median <= d.interval.high);
        assert.ok(d.interval.low > 0, 'the sidecar adds latency in every repetition');
      }
    }
    assert.deepEqual(withIntervals(summarise(run.runId, 'complete', steps)), summary, 'seeded: the same steps give the same intervals');
  });

  it('gives the added latency in % as the µs difference over the median baseline: same sign, same order', () => {
    const base = summary.groups.find((x) => x.dataplane === 'baseline');
    for (const g of summary.groups.filter((x) => x.dataplane !== 'baseline')) {
      for (const [us, pctSpread, baseline] of [[g.latencyAddedP50Us, g.latencyAddedP50Pct, base?.latencyP50Us], [g.latencyAddedP99Us, g.latencyAddedP99Pct, base?.latencyP99Us]] as const) {
        assert.ok(us !== null && pctSpread !== null && baseline !== undefined && baseline !== null);
        assert.ok(Math.abs(pctSpread.median - (100 * us.median) / baseline.median) < 1e-9, `${pctSpread.median} vs ${us.median} / ${baseline.median}`);
        assert.deepEqual(pctSpread.values.map((v) => Math.sign(v)), us.values.map((v) => Math.sign(v)));
      }
    }
  });

  it('prints value [low–high] with the legend', () => {
    const text = formatSummaryText(summary);
    const g = summary.groups.find((x) => x.dataplane === 'sidecar');
    assert.ok(g?.cpuUsPerRequest !== null && g?.cpuUsPerRequest.interval !== undefined);
    assert.ok(text.includes(`${g.cpuUsPerRequest.median.toFixed(1)} [${g.cpuUsPerRequest.interval.low.toFixed(1)}–${g.cpuUsPerRequest.interval.high.toFixed(1)}]`), text);
    assert.match(text, /\[low–high\]: 95 % percentile-bootstrap interval of the median/);
  });

  it("draws the summary's intervals as the charts' error bars", () => {
    const chart = latencyByDataPlaneChart(stepRows(run.runId, steps));
    const values = (chart.spec as { data: { values: Array<{ dataplane: string; percentile: string; lowUs: number; highUs: number }> } }).data.values;
    for (const g of summary.groups) {
      const p99 = values.find((v) => v.dataplane === g.dataplane && v.percentile === 'P99');
      assert.deepEqual([p99?.lowUs, p99?.highUs], [g.latencyP99Us?.interval?.low, g.latencyP99Us?.interval?.high]);
    }
    assert.match(JSON.stringify(chart.spec), /"field":"lowUs"/);
  });
});
