import type { Microseconds } from './units';

/** How the early wake-up margin follows the wake-up lateness seen during the run. */
export interface AdaptiveWakeMarginOptions {
  /** The lateness assumed before the first wake-up (µs): the start-up calibration's (wakeCalibration.ts). */
  readonly initialLatenessUs: Microseconds;
  /**
   * Spin budget: the margin is at most this fraction of the sleep it ends, since every wake-up spins the whole
   * margin, i.e. spinning costs margin/sleep of a core.
   */
  readonly spinBudget: number;
  /**
   * Sleeps shorter than this (µs) get a proportionally smaller budget (spinBudget × sleep × sleep/this): at
   * high rates the vCPU is busy and the timerfd punctual, and every µs spun is CPU per request.
   */
  readonly fullBudgetSleepUs: Microseconds;
  /** The margin never exceeds this (µs); a lateness above it is taken as this much. */
  readonly maxUs: Microseconds;
  /** A margin below this (µs) is 0: a loop turn costs about as much, and the final busy-wait covers it. */
  readonly minUs: Microseconds;
  /** Wake-ups over which a peak halves. */
  readonly halfLifeWakes: number;
}

/**
 * Defaults, measured here (2 vCPUs shared with other work, timerfd, slack 1 ns): under load the timerfd is
 * 7/13 µs late (p50/p99) after sleeps of 0.1–1 ms; a vCPU woken from a 50 ms sleep was 26–290 µs late (40
 * wake-ups, load average 1.5). The cap, 500 µs, stays well inside one scheduler slice (EEVDF's base slice is
 * 0.75 ms × (1 + log2 CPUs), 1.5 ms on 2 CPUs): a thread that spins past its slice is preempted by whatever else
 * is runnable on its CPU. Measured with a 1.8–2 ms margin at 20 QPS: the wake-ups were 26–290 µs late, yet 7 of
 * 40 releases 0.4–2.8 ms late, preempted while spinning.
 * The budget: 5 % of a core from 10 ms sleeps up (≤ 100 QPS); less below, so the spin is ≤ 5 µs per request at
 * 1,000 QPS (a flat 3 % spun 30 µs there: CPU per request 1.42× hey's against 1.2× with ~20 µs, bench under the
 * lock) and none at 10,000 (below minUs).
 * A half-life of 64 wake-ups keeps a late wake-up that comes once in ~100 in the margin most of the time.
 */
export const defaultAdaptiveWakeMargin: Omit<AdaptiveWakeMarginOptions, 'initialLatenessUs'> = {
  spinBudget: 0.05,
  fullBudgetSleepUs: 10_000,
  maxUs: 500,
  minUs: 4,
  halfLifeWakes: 64,
};

/**
 * The early wake-up margin, adapted per wake-up to the lateness actually observed: a decaying peak of recent
 * lateness (rises at once to a later wake-up, then halves every `halfLifeWakes` wake-ups; the "peak EWMA" of
 * Finagle's load balancer), bounded by the spin budget of the sleep at hand and `maxUs`. So a rate whose
 * wake-ups come from idle and are ~1 ms late spins ~1 ms before each deadline, while at a high rate (short
 * sleeps, a busy and so punctual vCPU) the margin shrinks toward 0 and nothing is spun.
 * Pure: no clock; the caller passes the lateness it measured (µs after the time the wake source was armed for).
 */
export class AdaptiveWakeMargin {
  private peakUs: Microseconds;
  private readonly decay: number;

  constructor(private readonly options: AdaptiveWakeMarginOptions) {
    if (!(options.halfLifeWakes > 0)) throw new RangeError('halfLifeWakes must be > 0');
    this.decay = 2 ** (-1 / options.halfLifeWakes);
    this.peakUs = clampLateness(options.initialLatenessUs, options.maxUs);
  }

  /** The current decayed peak of the lateness (µs), before the per-sleep budget. */
  get peakLatenessUs(): Microseconds {
    return this.peakUs;
  }

  /** Records one wake-up `latenessUs` after its armed time; NaN and negative values (clock noise) count as 0. */
  observe(latenessUs: Microseconds): void {
    const x = clampLateness(latenessUs, this.options.maxUs);
    const decayed = this.peakUs * this.decay;
    this.peakUs = x > decayed ? x : decayed;
  }

  /** How early (µs, ≥ 0) to wake before a deadline `sleepUs` away. */
  marginUs(sleepUs: Microseconds): Microseconds {
    const o = this.options;
    const budget = o.spinBudget * sleepUs * (sleepUs < o.fullBudgetSleepUs ? sleepUs / o.fullBudgetSleepUs : 1);
    const m = this.peakUs < budget ? this.peakUs : budget;
    return m < o.minUs ? 0 : Math.ceil(m);
  }
}

function clampLateness(latenessUs: Microseconds, maxUs: Microseconds): Microseconds {
  if (!(latenessUs > 0)) return 0;
  return latenessUs < maxUs ? latenessUs : maxUs;
}
