import assert from 'node:assert/strict';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';
import {
  crossingQps, defaultCloseMargin, isotonicFit, judgeNext, judgeProbe, nearLimitStep, nextRate, probeScore, rateSearchConfig, scoreCap, searchMaxRate, searchResult,
  type ProbeMeasurement, type RateSearchConfig, type SearchProbe,
} from '../../harness/runner/rateSearch';

/**
 * The search's fit (an L1 isotonic regression of every probe's distance to the objective against the offered
 * rate), its crossing, the debt rule and the near-limit step, on injected probe results.
 */
const fitted = (o: Partial<RateSearchConfig> = {}): RateSearchConfig => ({
  objective: { p99Us: 5000, errorShare: 0.001 }, fromQps: 4000, toQps: 200_000, maxProbes: 12, resolution: 0.1, closeMargin: defaultCloseMargin, factor: 2,
  minRequests: 10_000, maxProbesPerRate: 3, confirmBounds: true, noisyShare: 0.25, nearLimitFactor: 1.1, debtRule: true, fit: 'isotonic-median', ...o,
});
/** The same search as it ran before the fit (per-rate verdicts, factor 2 throughout, no debt rule). */
const perRate = (): RateSearchConfig => {
  const { nearLimitFactor: _n, debtRule: _d, fit: _f, ...rest } = fitted();
  return rest;
};

const m = (p99Us: number, o: Partial<ProbeMeasurement> = {}): ProbeMeasurement => ({
  achievedQps: 1000, p50Us: p99Us / 5, p99Us, maxUs: 2 * p99Us, requests: 20_000, errors: 0, cpuUsPerRequest: 50, stepId: 's', otherShare: 0, ...o,
});
/** Judges a list of (rate, P99 µs) in order, as the search would. */
function probes(c: RateSearchConfig, list: readonly (readonly [number, number, Partial<ProbeMeasurement>?])[]): SearchProbe[] {
  const out: SearchProbe[] = [];
  for (const [qps, p99, o] of list) out.push(judgeNext(c, out, qps, m(p99, o)));
  return out;
}

describe('rate search: the isotonic fit, its crossing, the debt rule, the near-limit step', () => {
  it('probeScore is ln(figure ÷ limit), the larger of the limits, above 0 exactly when judgeProbe fails', () => {
    const o = fitted().objective;
    const at = (p99Us: number, errors = 0, requests = 20_000): number => probeScore({ p99Us, errorShare: requests > 0 ? errors / requests : 1, requests }, o);
    assert.ok(Math.abs(at(10_000) - Math.log(2)) < 1e-12);
    assert.ok(Math.abs(at(2500) - Math.log(0.5)) < 1e-12);
    assert.ok(Math.abs(at(2500, 40) - Math.log(2)) < 1e-12, '0.2 % errors against 0.1 % outweighs the P99');
    assert.equal(at(2500, 0, 0), scoreCap, 'no request recorded');
    assert.equal(at(2e9), scoreCap, 'clamped');
    assert.equal(probeScore({ p99Us: 100, errorShare: 0.0001, requests: 10 }, { p99Us: null, errorShare: 0 }), scoreCap, 'an error limit of 0: one error fails');
    const random = seededRandom(7);
    for (let i = 0; i < 200; i += 1) {
      const p99 = 5000 * Math.exp(gaussian(random));
      const errors = random() < 0.3 ? Math.floor(random() * 60) : 0;
      const j = judgeProbe(m(p99, { errors }), o, defaultCloseMargin);
      assert.equal(at(p99, errors) > 0, j.verdict === 'fail', `P99 ${p99}, ${errors} errors`);
    }
  });

  it('isotonicFit: a monotone curve is its own fit; a violator is pooled with its neighbours at their median', () => {
    const pts = (xs: readonly (readonly [number, number])[]): { qps: number; score: number }[] => xs.map(([qps, score]) => ({ qps, score }));
    assert.deepEqual(isotonicFit(pts([[3, 0.2], [1, -1], [2, -0.5]])).map((f) => f.fitted), [-1, -0.5, 0.2], 'sorted by rate, unchanged');
    // 24,000 failed once (0.3), 26,000 and 28,000 passed: the three pool at their median, −0.1.
    const f = isotonicFit(pts([[16, -1], [24, 0.3], [26, -0.2], [28, -0.1], [32, 0.5]]));
    assert.deepEqual(f.map((x) => [x.qps, x.fitted]), [[16, -1], [24, -0.1], [26, -0.1], [28, -0.1], [32, 0.5]]);
    // Several probes at a rate: the median of the block, the mean of the middle two for an even count.
    assert.deepEqual(isotonicFit(pts([[10, 0.4], [10, -0.2], [10, -0.3], [20, 1]])).map((x) => x.fitted), [-0.2, 1]);
    assert.deepEqual(isotonicFit(pts([[10, 0.4], [20, -0.2]])).map((x) => x.fitted), [0.1, 0.1]);
    // Always non-decreasing, on random input.
    const random = seededRandom(3);
    for (let t = 0; t < 50; t += 1) {
      const fit = isotonicFit(Array.from({ length: 12 }, () => ({ qps: 1 + Math.floor(random() * 8), score: gaussian(random) })));
      for (let i = 1; i < fit.length; i += 1) assert.ok((fit[i - 1]?.fitted as number) <= (fit[i]?.fitted as number));
    }
  });

  it('crossingQps interpolates the fitted ln(P99 ÷ limit) linearly in ln(rate) between the bracket ends', () => {
    const fit = isotonicFit([{ qps: 20_000, score: Math.log(4000 / 5000) }, { qps: 30_000, score: Math.log(6000 / 5000) }]);
    const t = -Math.log(0.8) / (Math.log(1.2) - Math.log(0.8));
    assert.equal(crossingQps(fit, 20_000, 30_000), Math.round(Math.exp(Math.log(20_000) + t * Math.log(1.5)) / 10) * 10);
    assert.equal(crossingQps(fit, 20_000, null), null);
    assert.equal(crossingQps(fit, null, 30_000), null);
    // A crossing that rounds to the lowest failing rate stays below it: [low, high) (found by a fresh-user read).
    const near = isotonicFit([{ qps: 4000, score: Math.log(0.5) }, { qps: 4128, score: Math.log(1.0001) }]);
    const q = crossingQps(near, 4000, 4128) as number;
    assert.ok(q >= 4000 && q < 4128, `crossing ${q} inside [4000, 4128)`);
  });

  it('the debt rule: a fail on P99 right after an overload at a higher rate is inconclusive and repeated; not after a P99 fail, a pass or a lower fail, nor on errors, nor without the rule', () => {
    const c = fitted();
    const overload = { errors: 2000 };
    const ps = probes(c, [[16_000, 2000], [32_000, 90_000, overload], [24_000, 8000], [24_000, 3500]]);
    assert.deepEqual(ps.map((p) => p.afterHigherFail === true), [false, false, true, false]);
    assert.equal(ps[2]?.provisional, true);
    assert.match(ps[2]?.reason ?? '', /\(right after an overload at a higher rate\)$/);
    assert.deepEqual(nextRate(c, ps.slice(0, 3)), { qps: 24_000 }, 'the rate is probed again');
    const r = searchResult(c, ps);
    assert.equal(r.knownWithin.low, 24_000, 'the repeat passed: 24,000 passes (its fail left out)');
    assert.deepEqual(probes(c, [[16_000, 9000, overload], [24_000, 9000]]).map((p) => p.afterHigherFail === true), [false, false], 'a fail after a lower fail stands');
    assert.deepEqual(probes(c, [[32_000, 9000], [24_000, 9000]]).map((p) => p.afterHigherFail === true), [false, false], 'after a fail on P99 alone (no overload) it stands');
    assert.deepEqual(probes(c, [[32_000, 9000, overload], [24_000, 9000, overload]]).map((p) => p.afterHigherFail === true), [false, false], 'an overload of its own stands');
    assert.deepEqual(probes(perRate(), [[32_000, 9000, overload], [24_000, 9000]]).map((p) => p.afterHigherFail === true), [false, false], 'results written before the rule');
    assert.deepEqual(probes(c, [[32_000, 9000, overload], [24_000, 9000, { requests: 0 }]]).map((p) => p.afterHigherFail === true), [false, false], 'a broken probe is no debt');
  });

  it('near the limit (within the band, or a fail there overturned) the exponential phase steps by 1 + resolution, so no probe overloads by more and a fail there ends the bracket; far from it, by 2', () => {
    const c = fitted();
    assert.deepEqual(nextRate(c, probes(c, [[4000, 1000], [8000, 1500], [16_000, 2000]])), { qps: 32_000 }, 'P99 at 40 % of the limit: doubled');
    assert.deepEqual(nextRate(c, probes(c, [[4000, 1000], [8000, 1500], [16_000, 2000], [32_000, 4000]])), { qps: 35_200 }, 'P99 at 80 %: ×1.1');
    assert.deepEqual(nextRate(perRate(), probes(perRate(), [[4000, 1000], [8000, 1500], [16_000, 2000], [32_000, 4000]])), { qps: 64_000 }, 'results written before it: doubled');
    // 8000 failed once (a stall), then passed twice: the fit passes it, and the knee is near.
    assert.deepEqual(nextRate(c, probes(c, [[4000, 1000], [8000, 70_000], [6000, 2000], [7000, 2300], [8000, 3500], [8000, 3500]])), { qps: 8800 }, 'a fail overturned at the highest passing rate: ×1.1');
    // A fail one step up is within the resolution: no bisection (33,600), only the two ends settled and confirmed.
    const fail = probes(c, [[4000, 1000], [8000, 1500], [16_000, 2000], [32_000, 4000], [35_200, 9000]]);
    assert.deepEqual(nextRate(c, fail), { qps: 32_000 }, 'the close pass settled');
    const settled = [...fail, judgeNext(c, fail, 32_000, m(3000))];
    assert.deepEqual(nextRate(c, settled), { qps: 35_200 }, 'the fail confirmed');
    assert.deepEqual(nextRate(c, [...settled, judgeNext(c, settled, 35_200, m(8000))]), { end: 'converged' });
  });

  it('nearLimitStep rounds down, so the step stays within the resolution whatever the rate; profiles resolve it to 1 + resolution', () => {
    assert.equal(nearLimitStep(32_000, 1.1), 35_200);
    assert.equal(nearLimitStep(30_610, 1.1), 33_671);
    for (let q = 500; q < 200_000; q += 997) {
      const next = nearLimitStep(q, 1.1);
      assert.ok(next > q && (next - q) / q <= 0.1, `${q} → ${next}`);
    }
    assert.equal(nearLimitStep(5, 1.1), 6, 'always above the pass');
    assert.equal(rateSearchConfig({ p99: "5ms", errors: "0.1%", from: 4000, to: 200_000, maxProbes: 12, resolution: "10%", minRequests: 10_000 } as Parameters<typeof rateSearchConfig>[0]).nearLimitFactor, 1.1);
  });

  it('the bracket comes from the fit: a lone fail below passing rates is pooled with them, not taken as the lowest failing rate', () => {
    const list: [number, number][] = [[8000, 1500], [16_000, 2500], [20_000, 5600], [24_000, 4200], [24_000, 4400], [28_000, 4600], [28_000, 4700], [32_000, 9000], [32_000, 9500]];
    const f = searchResult(fitted(), probes(fitted(), list));
    assert.deepEqual(f.knownWithin, { low: 28_000, high: 32_000 });
    assert.ok(f.estimateQps !== null && f.estimateQps !== undefined && f.estimateQps > 28_000 && f.estimateQps < 32_000, `${f.estimateQps}`);
    const old = searchResult(perRate(), probes(perRate(), list));
    assert.equal(old.knownWithin.high, 20_000, 'judged rate by rate, the one fail at 20,000 bounds the answer');
    assert.equal(old.estimateQps, undefined, 'no estimate without the fit');
  });

  it('on a synthetic machine with debt (an overload ≥ 1.4× capacity adds ×3 to the next two probes), two fitted searches agree within 15 % in ≥ 42 of 50 pairs (45 with these seeds), the per-rate search in at least 5 fewer (33), each within 12 probes', async () => {
    const capacity = 34_000;
    const machine = (seed: number): ((qps: number) => Promise<ProbeMeasurement>) => {
      const random = seededRandom(seed);
      let debt = 0;
      return async (qps) => {
        const over = qps / capacity;
        let p99 = over >= 1 ? 200_000 * over : 1000 + 3000 * (qps / (0.82 * capacity)) ** 3;
        p99 *= Math.exp(0.35 * gaussian(random)) * (random() < 0.15 ? 2 : 1);
        if (debt > 0) { p99 *= 3; debt -= 1; }
        if (over >= 1.4) debt = 2;
        const requests = Math.max(10_000, 2 * qps);
        return m(p99, { requests, errors: over >= 1 ? Math.round(0.05 * requests) : 0 });
      };
    };
    const agreement = async (c: RateSearchConfig): Promise<number> => {
      let agree = 0;
      for (let pair = 0; pair < 50; pair += 1) {
        const [a, b] = [await searchMaxRate(c, machine(100 + pair)), await searchMaxRate(c, machine(900 + pair))];
        assert.ok(a.probes.length <= 12 && b.probes.length <= 12);
        const [x, y] = [a.estimateQps ?? a.maxQps ?? 0, b.estimateQps ?? b.maxQps ?? 0];
        if (Math.abs(x - y) / Math.max(x, y) <= 0.15) agree += 1;
      }
      return agree;
    };
    const [withFit, without] = [await agreement(fitted()), await agreement(perRate())];
    // The summary re-judges the probes from their steps in order (judgeNext) and gets the run's answer.
    const run = await searchMaxRate(fitted(), machine(7));
    const replayed: SearchProbe[] = [];
    for (const p of run.probes) replayed.push(judgeNext(fitted(), replayed, p.qps, p));
    assert.deepEqual(searchResult(fitted(), replayed), run);
    assert.ok(withFit >= 42, `${withFit} of 50 pairs agree within 15 %`);
    assert.ok(withFit >= without + 5, `fitted ${withFit} against per-rate ${without}`);
  });
});
