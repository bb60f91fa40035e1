import assert from 'node:assert/strict';
import { binomial, exactMaxTotal, mannWhitneyGreater, mannWhitneyNormalP, uDistribution } from '../../harness/results/stats/mannWhitney';
import { seededRandom } from '../../harness/results/stats/seededRandom';

/** Reference: the p-value by enumerating every split of the pooled values (the definition of the exact test). */
function bruteForceP(x: number[], y: number[]): number {
  const all = [...x, ...y];
  const m = x.length;
  const u = (xs: number[], ys: number[]): number => xs.reduce((a, v) => a + ys.reduce((b, w) => b + (v > w ? 1 : v === w ? 0.5 : 0), 0), 0);
  const observed = u(x, y);
  let atLeast = 0;
  let total = 0;
  const pick = (start: number, chosen: number[]): void => {
    if (chosen.length === m) {
      const xs = chosen.map((i) => all[i] as number);
      const ys = all.filter((_, i) => !chosen.includes(i));
      total += 1;
      if (u(xs, ys) >= observed - 1e-9) atLeast += 1;
      return;
    }
    for (let i = start; i < all.length; i += 1) pick(i + 1, [...chosen, i]);
  };
  pick(0, []);
  return atLeast / total;
}

describe('Mann–Whitney U', () => {
  it('counts the U distribution: sums to C(m+n, m) and is symmetric', () => {
    for (const [m, n] of [[3, 3], [5, 5], [4, 7]] as const) {
      const d = uDistribution(m, n);
      assert.equal(d.length, m * n + 1);
      assert.equal(d.reduce((a, b) => a + b, 0), binomial(m + n, m));
      assert.deepEqual(d, [...d].reverse());
    }
  });

  it('gives the textbook extremes: 3 vs 3 all greater → 1/20, 5 vs 5 → 1/252', () => {
    assert.equal(mannWhitneyGreater([4, 5, 6], [1, 2, 3]).pValue, 1 / 20);
    const r = mannWhitneyGreater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]);
    assert.equal(r.pValue, 1 / 252);
    assert.equal(r.method, 'exact');
    assert.equal(mannWhitneyGreater([1, 2, 3], [4, 5, 6]).pValue, 1);
  });

  it('matches brute-force enumeration on mixed samples', () => {
    const x = [10.2, 11.5, 9.8, 12.1, 10.9];
    const y = [9.9, 10.1, 9.5, 10.4, 9.7, 10.0];
    assert.ok(Math.abs(mannWhitneyGreater(x, y).pValue - bruteForceP(x, y)) < 1e-12);
  });

  it('gives the exact p with ties: base 10, 10, 11 against head 11, 12, 12 is 2 of 20 arrangements, p = 0.10', () => {
    const r = mannWhitneyGreater([11, 12, 12], [10, 10, 11]);
    assert.equal(r.method, 'exact');
    assert.equal(r.u, 8.5);
    assert.ok(Math.abs(r.pValue - 0.1) < 1e-12, `p = ${r.pValue}`);
    // The normal approximation the landed code used here is anti-conservative (~0.04): it would have called this significant.
    assert.ok(r.pValue > 0.05);
  });

  it('matches brute-force enumeration with ties on 200 random small samples (fixed seed)', () => {
    const random = seededRandom(16);
    for (let t = 0; t < 200; t += 1) {
      const m = 1 + Math.floor(random() * 6);
      const n = 1 + Math.floor(random() * 6);
      // Few distinct values, so ties are the rule, as with percentiles read off an HDR histogram.
      const draw = (k: number): number[] => Array.from({ length: k }, () => 100 + Math.floor(random() * 4));
      const x = draw(m);
      const y = draw(n);
      const r = mannWhitneyGreater(x, y);
      assert.ok(Math.abs(r.pValue - bruteForceP(x, y)) < 1e-12, `${x} vs ${y}: ${r.pValue} vs ${bruteForceP(x, y)}`);
    }
  });

  it('uses the normal approximation only above the stated cutoff; with ties it is close to the exact p, not equal', () => {
    const x = [3, 4, 4, 5, 6, 6, 7];
    const y = [1, 2, 3, 3, 4, 5, 5];
    const exact = mannWhitneyGreater(x, y);
    assert.equal(exact.method, 'exact');
    assert.ok(Math.abs(exact.pValue - bruteForceP(x, y)) < 1e-12);
    assert.ok(Math.abs(mannWhitneyNormalP(x, y, exact.u) - exact.pValue) < 0.02);
    const half = exactMaxTotal / 2;
    const big = mannWhitneyGreater(Array.from({ length: half + 1 }, (_, i) => i + 0.5), Array.from({ length: half }, (_, i) => i));
    assert.equal(big.method, 'normal');
  });

  it('says when the samples are too small to ever be significant', () => {
    assert.equal(mannWhitneyGreater([2, 3], [1]).minPValue, 1 / 3);
  });
});
