/*
 * Cliff's δ (Cliff 1993, "Dominance statistics: ordinal analyses to answer ordinal questions"): the
 * effect size that goes with a rank test, and the one Mozilla's PerfCompare shows beside its p-values.
 * δ = P(head > base) − P(head < base) over all pairs, in [−1, 1]; it says how often one run beats the
 * other, where a p-value only says whether the difference is noise.
 */

/** Romano et al.'s verbal labels for |δ|. */
export type EffectMagnitude = 'negligible' | 'small' | 'medium' | 'large';

export interface CliffsDelta {
  /** In [−1, 1]: +1 when every head value is above every base value. */
  readonly delta: number;
  readonly magnitude: EffectMagnitude;
}

/**
 * Thresholds on |δ| of Romano et al. 2006 ("Appropriate statistics for ordinal level data"): below 0.147
 * negligible, 0.33 small, 0.474 medium, else large (they correspond to Cohen's d of 0.2, 0.5 and 0.8).
 */
export function effectMagnitude(delta: number): EffectMagnitude {
  const a = Math.abs(delta);
  return a < 0.147 ? 'negligible' : a < 0.33 ? 'small' : a < 0.474 ? 'medium' : 'large';
}

/** Cliff's δ of `head` over `base` (positive: head tends to be larger). Throws on an empty sample. */
export function cliffsDelta(head: readonly number[], base: readonly number[]): CliffsDelta {
  if (head.length === 0 || base.length === 0) throw new Error('cliffsDelta: both samples need at least one value');
  let dominance = 0;
  for (const h of head) for (const b of base) dominance += h > b ? 1 : h < b ? -1 : 0;
  const delta = dominance / (head.length * base.length);
  return { delta, magnitude: effectMagnitude(delta) };
}
