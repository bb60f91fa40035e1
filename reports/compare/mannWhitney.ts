/*
 * Mann–Whitney U test (Wilcoxon rank-sum), one-sided: is `x` stochastically greater than `y`?
 * Benchmarks give few repetitions (3–10), where the normal approximation is poor, so the p-value is
 * exact (the U distribution by counting, Mann & Whitney 1947) when there are no ties and the samples
 * are small; otherwise the normal approximation with tie and continuity corrections.
 */

export interface MannWhitneyResult {
  /** U of x: pairs (xi, yj) with xi > yj, ties counting half. */
  readonly u: number;
  /** One-sided p-value for "x greater than y". */
  readonly pValue: number;
  readonly method: 'exact' | 'normal';
  /** The smallest p-value these sample sizes can give: above α, no result can be significant. */
  readonly minPValue: number;
}

export function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i += 1) r = (r * (n - k + i)) / i;
  return r;
}

/** Counts of U = 0..m·n over all C(m+n, m) arrangements (frequencies of the rank-sum statistic). */
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

function normalUpperTail(z: number): number {
  // Abramowitz–Stegun 7.1.26 for erfc; ample for a p-value.
  const t = 1 / (1 + 0.3275911 * Math.abs(z) / Math.SQRT2);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const m = x.length;
  const n = y.length;
  if (m === 0 || n === 0) return { u: 0, pValue: 1, method: 'exact', minPValue: 1 };
  let u = 0;
  let ties = false;
  for (const a of x) for (const b of y) {
    if (a > b) u += 1;
    else if (a === b) { u += 0.5; ties = true; }
  }
  const total = binomial(m + n, m);
  const minPValue = 1 / total;
  if (!ties && m + n <= 40 && total < 1e12) {
    const dist = uDistribution(m, n);
    let atLeast = 0;
    for (let k = Math.ceil(u); k < dist.length; k += 1) atLeast += dist[k] as number;
    return { u, pValue: atLeast / total, method: 'exact', minPValue };
  }
  // Normal approximation with the tie correction of the variance.
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
  if (variance <= 0) return { u, pValue: 1, method: 'normal', minPValue };
  const z = (u - (m * n) / 2 - 0.5) / Math.sqrt(variance);
  return { u, pValue: normalUpperTail(z), method: 'normal', minPValue };
}
