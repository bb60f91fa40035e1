import { monotonicClock, type TimerApi } from '../../workloads/clock';
import { createLoadTimers } from '../../workloads/loadTimers';
import { LatencyHistogram } from '../../workloads/latencyHistogram';
import { PreciseTimers } from '../../workloads/preciseTimers';
import { RateScheduler } from '../../workloads/rateScheduler';
import type { LoadTimerKind } from '../../workloads/earlyWakeTimers';
import type { AdaptiveWakeMargin } from '../../workloads/adaptiveWakeMargin';
import type { RealtimeWait } from '../../workloads/realtimeWait';

/*
 * One timer alone under the load loop's RateScheduler, no network: how late each release is (the send lag the
 * timer alone causes) and the CPU per release (process.cpuUsage, user + system). Run pinned by
 * benchWorkloads.ts: `node timerPrecision.js <timerfd|worker|precise> <qps> <seconds>`; prints one JSON line.
 * `precise` is the load loop's timer before createLoadTimers (PreciseTimers plus the scheduler's 200 µs spin).
 */

/** One measurement, as printed. */
export interface TimerPrecisionResult {
  readonly timer: LoadTimerKind | 'precise';
  readonly qps: number;
  readonly seconds: number;
  readonly releases: number;
  /** The adaptive margin for this rate's sleep at the end of the run (µs); null for `precise` (a fixed 200 µs spin). */
  readonly marginUs: number | null;
  /** The adaptive margin's decayed peak lateness at the end (µs, before the spin budget); null for `precise`. */
  readonly peakLatenessUs: number | null;
  readonly lagP50Us: number;
  readonly lagP99Us: number;
  readonly lagMaxUs: number;
  readonly cpuPerReleaseUs: number;
  /**
   * The SCHED_FIFO wait around long sleeps (workloads/realtimeWait.ts) as the load loop uses it, timerfd only:
   * 'on'/'off' (used), 'unused' (sleeps too short), 'refused: <why>', 'demoted: <why>'; null for the other timers.
   */
  readonly realtimeWait: string | null;
}

async function main(): Promise<void> {
  const [kindArg, qpsArg, secondsArg] = process.argv.slice(2);
  const qps = Number(qpsArg);
  const seconds = Number(secondsArg ?? 2);
  if (!['timerfd', 'worker', 'precise'].includes(kindArg ?? '') || !(qps > 0) || !(seconds > 0)) {
    console.error('usage: timerPrecision.js <timerfd|worker|precise> <qps> [seconds]');
    process.exitCode = 2;
    return;
  }
  const clock = monotonicClock;
  let timers: TimerApi & { close(): void };
  let spinWindowUs = 200;
  let margin: AdaptiveWakeMargin | undefined;
  let realtime: RealtimeWait | undefined;
  if (kindArg === 'precise') {
    timers = new PreciseTimers();
  } else {
    const t = await createLoadTimers({ kind: kindArg as LoadTimerKind, realtimeWait: kindArg === 'timerfd' });
    realtime = t.realtime;
    timers = t.timers;
    spinWindowUs = t.callerSpinWindowUs;
    margin = t.margin;
  }
  const lag = new LatencyHistogram();
  const warmupUs = 300_000;
  const startUs = clock.nowUs();
  const endUs = startUs + warmupUs + seconds * 1e6;
  let releases = 0;
  let cpuStart: NodeJS.CpuUsage | undefined;
  await new Promise<void>((resolve) => {
    const scheduler = new RateScheduler(qps, clock, timers, (intendedUs) => {
      if (intendedUs < startUs + warmupUs) return;
      cpuStart ??= process.cpuUsage();
      lag.record(clock.nowUs() - intendedUs);
      releases += 1;
    }, (intendedUs) => {
      if (intendedUs < endUs) return true;
      setImmediate(resolve);
      return false;
    }, spinWindowUs);
    scheduler.start(startUs);
  });
  const cpu = process.cpuUsage(cpuStart);
  const realtimeWait = realtime === undefined ? null : realtime.reason !== '' ? `${realtime.state}: ${realtime.reason}` : realtime.state;
  timers.close();
  const s = lag.summary();
  const result: TimerPrecisionResult = {
    timer: kindArg as TimerPrecisionResult['timer'],
    qps,
    seconds,
    releases,
    marginUs: margin === undefined ? null : margin.marginUs(1e6 / qps),
    peakLatenessUs: margin === undefined ? null : Math.round(margin.peakLatenessUs * 10) / 10,
    lagP50Us: lag.percentileUs(50),
    lagP99Us: lag.percentileUs(99),
    lagMaxUs: s.maxUs,
    cpuPerReleaseUs: (cpu.user + cpu.system) / Math.max(1, releases),
    realtimeWait,
  };
  console.log(JSON.stringify(result));
}

void main();
