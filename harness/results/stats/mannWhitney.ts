import { errorFunction } from 'simple-statistics';

/*
 * Mann–Whitney U test (Wilcoxon rank-sum), one-sided: is `x` stochastically greater than `y`?
 * Benchmarks give few repetitions (3–15), where the normal approximation is poor and, with ties, anti-
 * conservative (x = 11, 12, 12 against y = 10, 10, 11: the exact p is 2/20 = 0.10, the normal
 * approximation with tie correction gives ~0.04). So the p-value is the exact permutation p: the share
 * of all C(m+n, m) ways to split the pooled values into samples of sizes m and n whose rank sum is at
 * least the observed one, ties taking their mid-ranks (the conditional permutation distribution,
 * Lehmann 1975, "Nonparametrics", §1.4; what R's coin::wilcox_test(distribution = "exact") gives).
 * The splits are counted by dynamic programming over the doubled mid-ranks rather than listed one by
 * one (same count, m·N·ΣR steps instead of C(N, m)). Above `exactMaxTotal` pooled values the normal
 * approximation with tie and continuity corrections is used; there it is accurate to well under 0.01.
 */

/** Exact counting is used up to this many pooled values (m + n): C(50, 25) ≈ 1.3e14 < 2^53, so every count is an exact integer. */
export const exactMaxTotal = 50;

/** The outcome of one one-sided test. */
export interface MannWhitneyResult {
  /** U of x: pairs (xi, yj) with xi > yj, ties counting half. */
  readonly u: number;
  /** One-sided p-value for "x greater than y". */
  readonly pValue: number;
  readonly method: 'exact' | 'normal';
  /** The smallest p-value these sample sizes can give: above α, no result can be significant. */
  readonly minPValue: number;
}

/** C(n, k) as a float (exact below 2^53). */
export function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i += 1) r = (r * (n - k + i)) / i;
  return r;
}

/** Counts of U = 0..m·n over all C(m+n, m) arrangements of distinct values (the rank-sum distribution without ties). */
export function uDistribution(m: number, n: number): number[] {
  // The largest value is either an x (beating all j values of y: U += j) or a y (U += 0):
  // f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u).
  const f: number[][][] = [];
  for (let i = 0; i <= m; i += 1) {
    const row: number[][] = [];
    for (let j = 0; j <= n; j += 1) {
      if (i === 0 || j === 0) {
        row.push([1]);
        continue;
      }
      const a = (f[i - 1] as number[][])[j] as number[];
      const b = row[j - 1] as number[];
      const out = new Array<number>(i * j + 1).fill(0);
      for (let u = 0; u < a.length; u += 1) out[u + j] = (out[u + j] as number) + (a[u] as number);
      for (let u = 0; u < b.length; u += 1) out[u] = (out[u] as number) + (b[u] as number);
      row.push(out);
    }
    f.push(row);
  }
  return (f[m] as number[][])[n] as number[];
}

/** Doubled mid-ranks (1-based) of `values` in the pooled order: integers, so sums can index an array. */
function doubledMidRanks(pooled: readonly number[]): number[] {
  const order = pooled.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(pooled.length).fill(0);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && (order[j] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]) j += 1;
    // Positions i..j-1 (0-based) share the mid-rank ((i+1) + j) / 2; doubled: i + 1 + j.
    for (let k = i; k < j; k += 1) ranks[(order[k] as readonly [number, number])[1]] = i + 1 + j;
    i = j;
  }
  return ranks;
}

/**
 * Exact one-sided permutation p-value of the rank sum of the first `m` of `ranks2` (doubled mid-ranks):
 * the share of all ways to pick m of the N values whose doubled rank sum is ≥ the observed one.
 */
function exactRankSumP(ranks2: readonly number[], m: number): number {
  const N = ranks2.length;
  const observed = ranks2.slice(0, m).reduce((a, r) => a + r, 0);
  const maxSum = ranks2.reduce((a, r) => a + r, 0);
  // ways[k][s]: subsets of size k of the values seen so far with doubled rank sum s.
  const ways: Float64Array[] = Array.from({ length: m + 1 }, () => new Float64Array(maxSum + 1));
  (ways[0] as Float64Array)[0] = 1;
  let seen = 0;
  for (const r of ranks2) {
    seen += r;
    for (let k = Math.min(m, N); k >= 1; k -= 1) {
      const to = ways[k] as Float64Array;
      const from = ways[k - 1] as Float64Array;
      for (let s = seen; s >= r; s -= 1) to[s] = (to[s] as number) + (from[s - r] as number);
    }
  }
  const last = ways[m] as Float64Array;
  let atLeast = 0;
  let total = 0;
  for (let s = 0; s <= maxSum; s += 1) {
    total += last[s] as number;
    if (s >= observed) atLeast += last[s] as number;
  }
  return atLeast / total;
}

/** Upper tail of the standard normal, from simple-statistics' erf (Numerical Recipes' erfc, |error| < 1.2e-7). */
export function normalUpperTail(z: number): number {
  return 0.5 * (1 - errorFunction(z / Math.SQRT2));
}

/**
 * One-sided Mann–Whitney U test that `x` is stochastically greater than `y`. Exact permutation p (with
 * ties) for m + n ≤ `exactMaxTotal`, else the normal approximation with tie and continuity corrections.
 * Empty samples give p = 1.
 */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return { u: 0, pValue: 1, method: 'exact', minPValue: 1 };
  let u = 0;
  for (const a of x) for (const b of y) {
    if (a > b) u += 1;
    else if (a === b) u += 0.5;
  }
  const minPValue = 1 / binomial(m + n, m);
  if (m + n <= exactMaxTotal) return { u, pValue: exactRankSumP(doubledMidRanks([...x, ...y]), m), method: 'exact', minPValue };
  return { u, pValue: mannWhitneyNormalP(x, y, u), method: 'normal', minPValue };
}

/** The normal approximation of the one-sided p for U = `u` of x over y, with the tie correction of the variance and a continuity correction. */
export function mannWhitneyNormalP(x: readonly number[], y: readonly number[], u: number): number {
  const m = x.length;
  const n = y.length;
  const all = [...x, ...y].sort((a, b) => a - b);
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j] === all[i]) j += 1;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  const N = m + n;
  const variance = ((m * n) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  if (variance <= 0) return 1;
  return normalUpperTail((u - (m * n) / 2 - 0.5) / Math.sqrt(variance));
}
