import { describeError } from '../harness/errors';
import { monotonicClock, type Clock, type TimerApi } from './clock';
import { AdaptiveWakeMargin, defaultAdaptiveWakeMargin, type AdaptiveWakeMarginOptions } from './adaptiveWakeMargin';
import { EarlyWakeTimers, type LoadTimerKind, type WakeSourceFactory } from './earlyWakeTimers';
import { timerfdWakeSource } from './timerfdWakeSource';
import { calibrateWakeMargin, type WakeCalibration } from './wakeCalibration';
import { workerWakeSource } from './workerWakeSource';
import { schedulingVerbs } from '../bpf/bpfBindings';
import { RealtimeWait, defaultRealtimeWait, realtimeWaitBlocker, refusingRealtimeVerbs, type RealtimeWaitOptions } from './realtimeWait';
import type { Microseconds } from './units';

/** The load loop's timer, with what it is and what calibration measured (for logs and the result JSON). */
export interface LoadTimers {
  /** Close it when the run ends: it releases the timerfd or helper thread; nothing fires afterwards. */
  readonly timers: TimerApi & { close(): void };
  readonly kind: LoadTimerKind;
  /** Why this kind: "timerfd (native addon)" or why the addon could not be used. */
  readonly reason: string;
  readonly calibration: WakeCalibration;
  /** The early wake-up margin in use, adapting during the run (its peak lateness, for logs and the bench). */
  readonly margin: AdaptiveWakeMargin;
  /**
   * The spin window to give RateScheduler / DeadlineQueue (`spinWindowUs`): 0, because these timers spin
   * their own calibrated margin. Passing the old 200 µs would only add spinning.
   */
  readonly callerSpinWindowUs: Microseconds;
  /**
   * The SCHED_FIFO wait around long sleeps (realtimeWait.ts): its state at the end tells whether it was used
   * ('on'/'off'), refused (and `reason`), or never needed ('unused'). Undefined when not asked for or no timerfd.
   */
  readonly realtime: RealtimeWait | undefined;
}

export interface LoadTimersOptions {
  readonly clock?: Clock;
  /** Force one kind (tests, the bench's comparison); default: timerfd when the addon loads, else worker. */
  readonly kind?: LoadTimerKind;
  /** Overrides of the adaptive margin's defaults (the bench's comparisons). */
  readonly margin?: Partial<Omit<AdaptiveWakeMarginOptions, 'initialLatenessUs'>>;
  /**
   * Wait for long sleeps under SCHED_FIFO (realtimeWait.ts), with the timerfd only: true for the defaults, or
   * overrides; default off. The load loop asks for it; a server's timers (echoServer) do not.
   */
  readonly realtimeWait?: boolean | Partial<RealtimeWaitOptions>;
  /** The node flags this process runs with (default process.execArgv): realtimeWaitBlocker reads them. */
  readonly execArgv?: readonly string[];
}

/**
 * The lateness to assume before the run's first wake-up: the largest p90 the start-up calibration measured
 * (the cautious end; the adaptive margin decays from it within a few hundred wake-ups, and the spin budget caps
 * it at short sleeps meanwhile). NaN (no samples) counts as 0.
 */
export function initialLatenessUs(calibration: WakeCalibration): Microseconds {
  let worst = 0;
  for (const c of calibration.classes) if (c.lateness.p90Us > worst) worst = c.lateness.p90Us;
  return worst;
}

/**
 * Returns the best timer available here, with an early wake-up margin that adapts to the lateness observed
 * (adaptiveWakeMargin.ts), seeded by a start-up calibration: the addon's timerfd when the addon loads (a host
 * checkout after ci/setup.sh), else the pure-JS helper thread (the bundled client in Kubernetes pods, or an
 * unbuilt checkout). Takes ~130 ms (wakeCalibration.ts). The one construction site the load loop changes:
 *   const t = await createLoadTimers();  new RateScheduler(qps, clock, t.timers, …, t.callerSpinWindowUs)
 * Throws only when `kind: 'timerfd'` is forced and the addon is unusable (EnvironmentError / BpfError).
 */
export async function createLoadTimers(options: LoadTimersOptions = {}): Promise<LoadTimers> {
  const clock = options.clock ?? monotonicClock;
  let factory: WakeSourceFactory;
  let reason: string;
  if (options.kind === 'worker') {
    factory = workerWakeSource(clock);
    reason = 'worker (asked for)';
  } else {
    try {
      factory = timerfdWakeSource(clock);
      // Create one now, so an addon that loads but cannot make a timerfd falls back here rather than mid-run.
      factory(() => undefined).close();
      reason = 'timerfd (native addon)';
    } catch (err) {
      if (options.kind === 'timerfd') throw err;
      factory = workerWakeSource(clock);
      reason = `worker (no timerfd: ${describeError(err).line})`;
    }
  }
  const calibration = await calibrateWakeMargin(clock, factory);
  const margin = new AdaptiveWakeMargin({ ...defaultAdaptiveWakeMargin, ...options.margin, initialLatenessUs: initialLatenessUs(calibration) });
  let realtime: RealtimeWait | undefined;
  if (options.realtimeWait !== undefined && options.realtimeWait !== false && reason.startsWith('timerfd')) {
    const overrides = options.realtimeWait === true ? {} : options.realtimeWait;
    const blocker = realtimeWaitBlocker(options.execArgv ?? process.execArgv);
    realtime = new RealtimeWait(blocker === undefined ? schedulingVerbs() : refusingRealtimeVerbs(blocker), { ...defaultRealtimeWait, ...overrides });
  }
  const timers = new EarlyWakeTimers(clock, factory, margin, realtime);
  return { timers, kind: timers.kind, reason, calibration, margin, callerSpinWindowUs: 0, realtime };
}
