import type { RandomSource } from './seededRandom';

/*
 * E-divisive means: change points in a series by divisive hierarchical estimation with energy
 * statistics (Matteson & James 2014, "A Nonparametric Approach for Multiple Change Point Analysis of
 * Multivariate Data", JASA 109(505), §2–3), univariate, with α = 1 (distance |x − y|) as MongoDB's
 * signal-processing-algorithms and Apache Otava (Hunter) use it.
 *
 * For a segment Z[s, e) and split points s < τ < κ ≤ e, with X = Z[s, τ) (m values) and Y = Z[τ, κ)
 * (n values), the divergence is
 *   Q̂(τ, κ) = m·n/(m+n) · ( 2/(m·n) Σ|Xi − Yj| − 1/C(m,2) Σ_{i<k}|Xi − Xk| − 1/C(n,2) Σ_{j<k}|Yj − Yk| ),
 * maximised over τ and κ (the paper's E-divisive; MongoDB fixes κ = e, Otava searches κ as here). The
 * best split of any current segment is a candidate; it is accepted when a permutation test says its Q̂
 * is unlikely under no change: the values are shuffled within each current segment, the best Q̂ over
 * all segments recomputed, and p = (#{permuted ≥ observed} + 1) / (R + 1) (M&J §3.2). Accepting
 * continues until a candidate fails. Sums come from column prefix sums of the distance matrix, so a
 * segment's whole (τ, κ) search is O(n²) and a permutation is O(N²).
 *
 * Otava differs in the significance test (a Student t-test between neighbouring segments instead of
 * permutations, for speed); meshbench keeps the paper's permutation test, seeded, with an early stop
 * once the count of permuted Q̂ ≥ observed makes p > α whatever the remaining permutations give.
 */

export interface ChangePoint {
  /** Index of the first value after the change (the new segment starts here). */
  readonly index: number;
  /** The divergence Q̂ of the accepted split. */
  readonly qHat: number;
  /** Permutation p-value of the split when it was accepted. */
  readonly pValue: number;
}

export interface EDivisiveOptions {
  readonly random: RandomSource;
  /** Significance level of each accepted change point; 0.01 keeps false alarms on a 60-night series of pure noise near 1 %. */
  readonly alpha?: number;
  /** Permutations per test (M&J use 199). */
  readonly permutations?: number;
  /** Fewest values on each side of a split; 3 means a new level needs 3 runs before it can be a change point. */
  readonly minSize?: number;
}

interface Candidate {
  readonly index: number;
  readonly qHat: number;
}

/** prefix[j][i] = Σ_{r < i} |z[r] − z[j]|: column prefix sums of the distance matrix, (N+1)·N numbers. */
function columnPrefix(z: readonly number[]): Float64Array[] {
  const n = z.length;
  const out: Float64Array[] = [];
  for (let j = 0; j < n; j += 1) {
    const col = new Float64Array(n + 1);
    const zj = z[j] as number;
    for (let i = 0; i < n; i += 1) col[i + 1] = (col[i] as number) + Math.abs((z[i] as number) - zj);
    out.push(col);
  }
  return out;
}

/** The best split (τ, κ) of z[s, e) by Q̂; null when the segment is too short to split. */
function bestSplit(prefix: readonly Float64Array[], s: number, e: number, minSize: number): Candidate | null {
  let best: Candidate | null = null;
  let withinX = 0;
  // Grow X = [s, τ) one value at a time; for each τ grow Y = [τ, κ).
  for (let tau = s + 1; tau <= e - minSize; tau += 1) {
    const last = prefix[tau - 1] as Float64Array;
    withinX += (last[tau - 1] as number) - (last[s] as number);
    const m = tau - s;
    if (m < minSize) continue;
    let cross = 0;
    let withinY = 0;
    for (let kappa = tau + 1; kappa <= e; kappa += 1) {
      const col = prefix[kappa - 1] as Float64Array;
      cross += (col[tau] as number) - (col[s] as number);
      withinY += (col[kappa - 1] as number) - (col[tau] as number);
      const n = kappa - tau;
      if (n < minSize) continue;
      const between = (2 * cross) / (m * n);
      const inX = m > 1 ? (2 * withinX) / (m * (m - 1)) : 0;
      const inY = n > 1 ? (2 * withinY) / (n * (n - 1)) : 0;
      const q = ((m * n) / (m + n)) * (between - inX - inY);
      if (best === null || q > best.qHat) best = { index: tau, qHat: q };
    }
  }
  return best;
}

function bestOverSegments(z: readonly number[], bounds: readonly number[], minSize: number): Candidate | null {
  const prefix = columnPrefix(z);
  let best: Candidate | null = null;
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const c = bestSplit(prefix, bounds[i] as number, bounds[i + 1] as number, minSize);
    if (c !== null && (best === null || c.qHat > best.qHat)) best = c;
  }
  return best;
}

function shuffleWithin(z: readonly number[], bounds: readonly number[], random: RandomSource): number[] {
  const out = [...z];
  for (let b = 0; b + 1 < bounds.length; b += 1) {
    const lo = bounds[b] as number;
    // Fisher–Yates on [lo, hi)
    for (let i = (bounds[b + 1] as number) - 1; i > lo; i -= 1) {
      const j = lo + Math.floor(random() * (i - lo + 1));
      const t = out[i] as number;
      out[i] = out[j] as number;
      out[j] = t;
    }
  }
  return out;
}

/**
 * Change points of `series` (any unit; order is time), sorted by index. Deterministic for a given
 * random source. Throws on a non-finite value.
 */
export function eDivisive(series: readonly number[], o: EDivisiveOptions): ChangePoint[] {
  if (series.some((v) => !Number.isFinite(v))) throw new Error('eDivisive: the series holds a value that is not a finite number');
  const alpha = o.alpha ?? 0.01;
  const permutations = o.permutations ?? 199;
  const minSize = o.minSize ?? 3;
  // p ≤ α needs (count + 1) / (R + 1) ≤ α: more permuted Q̂ at or above the observed one than this fails.
  const allowed = Math.floor(alpha * (permutations + 1)) - 1;
  const found: ChangePoint[] = [];
  for (;;) {
    const bounds = [0, ...found.map((c) => c.index).sort((a, b) => a - b), series.length];
    const candidate = bestOverSegments(series, bounds, minSize);
    if (candidate === null || candidate.qHat <= 0 || allowed < 0) break;
    let atLeast = 0;
    let done = 0;
    while (done < permutations && atLeast <= allowed) {
      const permuted = bestOverSegments(shuffleWithin(series, bounds, o.random), bounds, minSize);
      if (permuted !== null && permuted.qHat >= candidate.qHat) atLeast += 1;
      done += 1;
    }
    if (atLeast > allowed) break;
    found.push({ index: candidate.index, qHat: candidate.qHat, pValue: (atLeast + 1) / (permutations + 1) });
  }
  return found.sort((a, b) => a.index - b.index);
}
