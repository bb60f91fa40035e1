import type { RandomSource } from './seededRandom';

/*
 * Percentile bootstrap intervals for medians over repetitions (Efron & Tibshirani 1993, "An
 * Introduction to the Bootstrap", ch. 13). Percentile, not BCa: BCa's acceleration comes from the
 * jackknife, and the jackknife of a median is inconsistent (Efron 1982, §3.4): with 3–15 repetitions
 * it swings with single values, so BCa corrects by noise. The percentile interval of a median is
 * transformation-respecting and its end points are order statistics of the sample, whose coverage is
 * distribution-free (it depends only on the number of repetitions, never on the latency distribution).
 *
 * What it covers, honestly: with n repetitions the interval's end points settle on fixed order
 * statistics, so its true coverage of the median is a step function of n. With 3 repetitions it is the
 * min–max, which covers the true median 1 − 2·0.5³ = 75 % of the time; 5 → ~93 %; 10 → 94.1 %;
 * 12–20 → 93–93.5 %; some odd n lower (21 → ~91 %), measured over 6,000 draws each. The coverage test uses
 * 10 repetitions.
 */

/** A two-sided interval for a statistic, in the statistic's unit, with how it was made. */
export interface ConfidenceInterval {
  readonly low: number;
  readonly high: number;
  /** Nominal level, 0.95 for a 95 % interval. */
  readonly level: number;
  readonly method: 'percentile bootstrap';
  readonly resamples: number;
}

/** The injected random source and the bootstrap's settings. */
export interface BootstrapOptions {
  readonly random: RandomSource;
  /** Bootstrap resamples; 2,000 puts the Monte Carlo error of a 95 % end point well below the spread of 3–15 repetitions. */
  readonly resamples?: number;
  readonly level?: number;
}

/** Resamples per interval unless told otherwise. */
export const defaultResamples = 2000;

/**
 * The median of one resample (with replacement) of `sorted`, drawn by counting how often each index is
 * picked and walking the counts: no array per resample and no sort. Hand-written because it is the hot
 * loop: 3.5× faster than simple-statistics' sampleWithReplacement + median (435 ms against 1,512 ms for
 * 1,000 intervals of 20 values × 1,000 resamples on this machine), which keeps the coverage test fast.
 */
function resampledMedian(sorted: readonly number[], counts: Int32Array, random: RandomSource): number {
  const n = sorted.length;
  counts.fill(0);
  for (let i = 0; i < n; i += 1) {
    const k = Math.floor(random() * n);
    counts[k] = (counts[k] as number) + 1;
  }
  const lowRank = (n - 1) >> 1;
  const highRank = n >> 1;
  let seen = 0;
  let low = Number.NaN;
  for (let i = 0; i < n; i += 1) {
    seen += counts[i] as number;
    if (Number.isNaN(low) && seen > lowRank) low = sorted[i] as number;
    if (seen > highRank) return (low + (sorted[i] as number)) / 2;
  }
  return low;
}

/** The two order statistics of the bootstrap distribution that bound the central `level` share (inverted-CDF percentiles). */
function percentileBounds(stats: Float64Array, level: number): { low: number; high: number } {
  stats.sort();
  const b = stats.length;
  const tail = (1 - level) / 2;
  return { low: stats[Math.min(b - 1, Math.floor(tail * b))] as number, high: stats[Math.max(0, Math.ceil((1 - tail) * b) - 1)] as number };
}

/** Percentile bootstrap interval of the median of `values`; null with fewer than 2 values (nothing to resample). */
export function medianInterval(values: readonly number[], o: BootstrapOptions): ConfidenceInterval | null {
  if (values.length < 2) return null;
  const resamples = o.resamples ?? defaultResamples;
  const level = o.level ?? 0.95;
  const sorted = [...values].sort((a, b) => a - b);
  const counts = new Int32Array(sorted.length);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r += 1) stats[r] = resampledMedian(sorted, counts, o.random);
  return { ...percentileBounds(stats, level), level, method: 'percentile bootstrap', resamples };
}

/**
 * Percentile bootstrap interval of a difference of medians between two independent samples (each
 * resampled on its own): head − base, or with `relative` 100 · (head − base) / base in %. Null when a
 * side has fewer than 2 values; a relative resample whose base median is 0 is left out.
 */
export function medianDifferenceInterval(base: readonly number[], head: readonly number[], o: BootstrapOptions & { readonly relative?: boolean }): ConfidenceInterval | null {
  if (base.length < 2 || head.length < 2) return null;
  const resamples = o.resamples ?? defaultResamples;
  const level = o.level ?? 0.95;
  const b = [...base].sort((x, y) => x - y);
  const h = [...head].sort((x, y) => x - y);
  const bc = new Int32Array(b.length);
  const hc = new Int32Array(h.length);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r += 1) {
    const mb = resampledMedian(b, bc, o.random);
    const mh = resampledMedian(h, hc, o.random);
    if (o.relative !== true) stats.push(mh - mb);
    else if (mb !== 0) stats.push((100 * (mh - mb)) / mb);
  }
  if (stats.length === 0) return null;
  return { ...percentileBounds(Float64Array.from(stats), level), level, method: 'percentile bootstrap', resamples };
}
