import type { Clock } from './clock';
import type { WakeSourceFactory } from './earlyWakeTimers';
import type { Microseconds } from './units';

/** Wake-up lateness of a wake source on this machine: how long after its deadline the event loop ran (µs). */
export interface WakeLatenessSummary {
  readonly samples: number;
  readonly p50Us: Microseconds;
  readonly p90Us: Microseconds;
  readonly maxUs: Microseconds;
}

/**
 * One sleep length's lateness, and the fixed margin a start-up calibration alone would choose for it (for logs
 * and comparison: the load timers now use an adaptive margin, adaptiveWakeMargin.ts, seeded by the largest p90
 * here, see loadTimers.ts initialLatenessUs).
 */
export interface WakeMarginClass {
  readonly sleepUs: Microseconds;
  readonly lateness: WakeLatenessSummary;
  readonly marginUs: Microseconds;
}

/** What the calibration measured, by sleep length (ascending), and the early wake-up margin for each. */
export interface WakeCalibration {
  readonly classes: readonly WakeMarginClass[];
}

/**
 * The sleeps measured, with how many of each: the load loop sleeps ~0.1 ms between requests at 10,000 QPS and
 * 50 ms at 20 QPS, and a vCPU woken from a longer sleep is later (measured here with a timerfd: p50 ~20 µs after
 * 1 ms, ~100 µs after 50 ms). Interleaved, ≈ 130 ms at start-up.
 */
export const calibrationPlan: ReadonlyArray<{ readonly sleepUs: Microseconds; readonly rounds: number }> = [
  { sleepUs: 200, rounds: 8 },
  { sleepUs: 1000, rounds: 8 },
  { sleepUs: 5000, rounds: 8 },
  { sleepUs: 20_000, rounds: 4 },
];
/**
 * Spin budget: a margin may cover the class's p90 lateness only while it costs at most this fraction of the
 * sleep (every wake-up spins the whole margin, so spinning costs margin/sleep of a core); beyond that it covers
 * the median. So at 20 QPS the tail is covered (≤ 0.4 ms per 20 ms), and at 1,000 QPS only the median (~20 µs).
 * Spinning longer does not pay on a shared core: measured here, a 1 ms margin at 1,000 QPS kept the loop
 * runnable all the time, the scheduler then preferred the other tasks, and the median send lag rose to ~1.4 ms.
 */
export const spinBudget = 0.02;
/** Bounds on any margin (µs): at least a loop turn; at most 1 ms. */
export const marginMinUs = 5;
export const marginMaxUs = 1000;

/** Nearest-rank quantile of ascending `sorted` (q in 0..1); NaN when empty. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/**
 * Summarises one sleep length's lateness samples (µs) and picks its margin: the p90 if that is within
 * spinBudget × sleepUs, else the larger of the median and that budget; clamped to [marginMinUs, marginMaxUs].
 * No samples: marginMaxUs (the cautious choice).
 */
export function chooseMargin(sleepUs: Microseconds, latenessUs: readonly Microseconds[]): WakeMarginClass {
  const s = [...latenessUs].sort((a, b) => a - b);
  const lateness: WakeLatenessSummary = { samples: s.length, p50Us: quantileSorted(s, 0.5), p90Us: quantileSorted(s, 0.9), maxUs: s.at(-1) ?? Number.NaN };
  const budgetUs = spinBudget * sleepUs;
  const wanted = lateness.p90Us <= budgetUs ? lateness.p90Us : Math.max(lateness.p50Us, budgetUs);
  const marginUs = Number.isFinite(wanted) ? Math.min(marginMaxUs, Math.max(marginMinUs, Math.ceil(wanted))) : marginMaxUs;
  return { sleepUs, lateness, marginUs };
}

/**
 * Measures the wake-up lateness of a fresh source from `factory` (closed afterwards) over calibrationPlan,
 * interleaved, and returns it with the margin chosen per sleep length.
 */
export function calibrateWakeMargin(clock: Clock, factory: WakeSourceFactory): Promise<WakeCalibration> {
  return new Promise((resolve, reject) => {
    const plan: Microseconds[] = [];
    const maxRounds = Math.max(...calibrationPlan.map((c) => c.rounds));
    for (let r = 0; r < maxRounds; r += 1) for (const c of calibrationPlan) if (r < c.rounds) plan.push(c.sleepUs);
    const samples = new Map<Microseconds, Microseconds[]>(calibrationPlan.map((c) => [c.sleepUs, []]));
    let index = 0;
    let deadlineUs = 0;
    const source = factory(() => {
      samples.get(plan[index] as Microseconds)?.push(clock.nowUs() - deadlineUs);
      index += 1;
      next();
    });
    const next = (): void => {
      const sleepUs = plan[index];
      if (sleepUs === undefined) {
        source.close();
        resolve({ classes: calibrationPlan.map((c) => chooseMargin(c.sleepUs, samples.get(c.sleepUs) ?? [])) });
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
