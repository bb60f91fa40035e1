import { quantileSorted, sampleVariance } from 'simple-statistics';
import { uDistribution } from './mannWhitney';
import { gaussian, seedFrom, seededRandom } from './seededRandom';

/*
 * The minimum detectable change: how large a regression could have gone unseen, given the noise the
 * two runs measured. "No regression" alone does not say whether the test could have seen one: with
 * 3 + 3 repetitions the exact test needs a shift of 2.6 noise standard deviations beyond the gate's
 * allowance to catch it 4 times out of 5 (5 + 5: 1.85; 15 + 15: 0.95).
 *
 * Method (a power calculation for the test `compare` runs, Lehmann 1975 §2.3, by simulation because
 * with 3–15 repetitions the asymptotic formula is off by a factor of up to 1.5): for m base and n head
 * repetitions, draw both from a normal distribution with head shifted by d noise standard deviations;
 * the exact one-sided Mann–Whitney test at level α rejects when U ≥ u_c. Per draw, the smallest shift
 * that rejects is the u_c-th smallest of the m·n differences base_i − head_j, so the shift detected with
 * the given power is the power-quantile of that smallest shift over the draws (no search needed).
 * Seeded, 4,000 draws per (m, n, α), cached.
 */

/** The power the minimum detectable change is stated at: 80 %, the usual convention in power analysis. */
export const detectablePower = 0.8;
const draws = 4000;
const shiftCache = new Map<string, number | null>();

/**
 * The shift, in noise standard deviations, that the exact one-sided Mann–Whitney test with m and n
 * repetitions detects at level α with probability `power`; null when these sample sizes can never reach α.
 */
export function detectableShiftSd(m: number, n: number, alpha: number, power = detectablePower): number | null {
  const key = `${m}|${n}|${alpha}|${power}`;
  const cached = shiftCache.get(key);
  if (cached !== undefined) return cached;
  let result: number | null = null;
  if (m > 0 && n > 0) {
    // Critical U: the smallest u with P(U ≥ u) ≤ α under no shift (continuous data, no ties).
    const dist = uDistribution(m, n);
    const total = dist.reduce((a, c) => a + c, 0);
    let tail = 0;
    let critical = -1;
    for (let u = dist.length - 1; u >= 0; u -= 1) {
      if ((tail + (dist[u] as number)) / total > alpha) break;
      tail += dist[u] as number;
      critical = u;
    }
    if (critical > 0) {
      const random = seededRandom(seedFrom(key));
      const smallest: number[] = [];
      const diffs = new Float64Array(m * n);
      for (let d = 0; d < draws; d += 1) {
        const base = Array.from({ length: m }, () => gaussian(random));
        const head = Array.from({ length: n }, () => gaussian(random));
        let k = 0;
        for (const b of base) for (const h of head) diffs[k++] = b - h;
        diffs.sort();
        // U(shift) counts pairs with head + shift > base, i.e. diffs below the shift: U ≥ critical once the shift passes diffs[critical − 1].
        smallest.push(diffs[critical - 1] as number);
      }
      smallest.sort((a, b) => a - b);
      result = quantileSorted(smallest, power);
    }
  }
  shiftCache.set(key, result);
  return result;
}

/** The measured noise: pooled sample standard deviation of the two sides (each around its own mean); null with fewer than 3 values in all. */
export function pooledSd(base: readonly number[], head: readonly number[]): number | null {
  const df = base.length - 1 + head.length - 1;
  if (df < 1) return null;
  const part = (v: readonly number[]): number => (v.length < 2 ? 0 : (v.length - 1) * sampleVariance([...v]));
  return Math.sqrt((part(base) + part(head)) / df);
}

export interface DetectableChange {
  /** The smallest regression (in % of the base median, in the worse direction) flagged with 80 % probability; null when the test cannot reach α. */
  readonly pct: number | null;
  /** The pooled noise, in % of the base median. */
  readonly noisePct: number | null;
}

/**
 * The minimum detectable regression of a non-inferiority check: the gate's allowance plus the shift the
 * test detects with 80 % power at α, in units of the measured noise. Inputs in the metric's unit; output
 * in % of the base median.
 */
export function detectableChange(base: readonly number[], head: readonly number[], limitPct: number, alpha: number): DetectableChange {
  const sd = pooledSd(base, head);
  const sorted = [...base].sort((a, b) => a - b);
  const baseMedian = sorted.length === 0 ? 0 : quantileSorted(sorted, 0.5);
  const noisePct = sd === null || baseMedian === 0 ? null : (100 * sd) / Math.abs(baseMedian);
  const k = detectableShiftSd(base.length, head.length, alpha);
  return { pct: k === null || noisePct === null ? null : limitPct + k * noisePct, noisePct };
}
