import type { Clock } from './clock';
import type { WakeSourceFactory } from './earlyWakeTimers';
import type { Microseconds } from './units';

/** Wake-up lateness of a wake source on this machine: how long after its deadline the event loop ran (µs). */
export interface WakeLatenessSummary {
  readonly samples: number;
  readonly p50Us: Microseconds;
  readonly p90Us: Microseconds;
  readonly p99Us: Microseconds;
  readonly maxUs: Microseconds;
}

/** What the calibration measured and the early wake-up margin it chose. */
export interface WakeCalibration {
  readonly lateness: WakeLatenessSummary;
  /** Wake this long before each deadline and spin the rest (µs). */
  readonly marginUs: Microseconds;
}

/**
 * Sleeps of 0.2, 1 and 5 ms, interleaved: the load loop's sleeps between requests span this range from 10,000
 * down to 200 QPS, and a CPU woken from a longer sleep is often later (a deeper idle state, or the host
 * descheduled the vCPU). 8 of each ≈ 50 ms at start-up.
 */
export const calibrationSleepsUs: readonly Microseconds[] = [200, 1000, 5000];
export const calibrationRounds = 8;
/**
 * The margin is this quantile of the measured lateness: wake-ups later than it (1 in 10) send late by the
 * difference, and every wake-up spins for the whole margin, so a higher quantile trades CPU for the tail.
 */
export const marginQuantile = 0.5;
/** Bounds on the margin (µs): at least one loop turn; at most 1 ms, beyond which spinning costs more than a libuv timer. */
export const marginMinUs = 5;
export const marginMaxUs = 200;

/** Nearest-rank quantile of ascending `sorted` (q in 0..1). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Summarises lateness samples (µs) and picks the margin: marginQuantile of them, clamped to [marginMinUs, marginMaxUs]. */
export function chooseMargin(latenessUs: readonly Microseconds[]): WakeCalibration {
  const s = [...latenessUs].sort((a, b) => a - b);
  const lateness: WakeLatenessSummary = {
    samples: s.length,
    p50Us: quantileSorted(s, 0.5),
    p90Us: quantileSorted(s, 0.9),
    p99Us: quantileSorted(s, 0.99),
    maxUs: s.at(-1) ?? Number.NaN,
  };
  const q = quantileSorted(s, marginQuantile);
  const marginUs = Number.isFinite(q) ? Math.min(marginMaxUs, Math.max(marginMinUs, Math.ceil(q))) : marginMaxUs;
  return { lateness, marginUs };
}

/**
 * Measures the wake-up lateness of a fresh source from `factory` (closed afterwards) over calibrationRounds ×
 * calibrationSleepsUs and returns it with the chosen margin. Resolves in ~50 ms plus the lateness.
 */
export function calibrateWakeMargin(clock: Clock, factory: WakeSourceFactory): Promise<WakeCalibration> {
  return new Promise((resolve, reject) => {
    const plan: Microseconds[] = [];
    for (let r = 0; r < calibrationRounds; r += 1) plan.push(...calibrationSleepsUs);
    const lateness: Microseconds[] = [];
    let deadlineUs = 0;
    const source = factory(() => {
      lateness.push(clock.nowUs() - deadlineUs);
      next();
    });
    const next = (): void => {
      const sleepUs = plan[lateness.length];
      if (sleepUs === undefined) {
        source.close();
        resolve(chooseMargin(lateness));
        return;
      }
      deadlineUs = clock.nowUs() + sleepUs;
      source.arm(deadlineUs);
    };
    try {
      next();
    } catch (err) {
      source.close();
      reject(err);
    }
  });
}
