import { timerfdVerbs, type TimerfdVerbs } from '../bpf/bpfBindings';
import type { Clock } from './clock';
import type { WakeSource, WakeSourceFactory } from './earlyWakeTimers';
import type { Microseconds } from './units';

/**
 * Timer slack for the main thread (ns). The kernel rounds the thread's sleeps (epoll_wait timeouts, and on
 * this kernel the timerfd expiry seen by the woken thread) up by the slack, 50 µs by default (prctl(2)
 * PR_SET_TIMERSLACK); 1 ns is the smallest. Measured here, one run of 30 sleeps of 1 ms each: timerfd wake-up
 * lateness p50 18 µs with 1 ns vs 30 µs with 50 µs.
 */
export const timerSlackNs = 1;

/**
 * Offset from the injected clock (µs since some origin, performance.now() × 1000 for monotonicClock) to
 * CLOCK_MONOTONIC ns, which process.hrtime.bigint() reads. Both read the same clock (libuv's uv_hrtime), so
 * the offset is constant; the closest of a few back-to-back samples bounds its error to well under 1 µs.
 */
export function monotonicOffsetNs(clock: Clock): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 5; i += 1) {
    const before = clock.nowUs();
    const ns = Number(process.hrtime.bigint());
    const after = clock.nowUs();
    if (after - before < best) {
      best = after - before;
      offset = ns - ((before + after) / 2) * 1000;
    }
  }
  return offset;
}

/**
 * A WakeSource on the addon's timerfd (CLOCK_MONOTONIC, TFD_TIMER_ABSTIME) watched by the main thread's libuv
 * loop: the sleeping loop wakes once per deadline, with no helper thread. Lowers the main thread's timer slack
 * to `timerSlackNs` (left so: the load client is its own process). Throws EnvironmentError when the addon is
 * missing or does not load, BpfError when the kernel refuses a timerfd.
 */
export function timerfdWakeSource(clock: Clock, verbs: TimerfdVerbs = timerfdVerbs()): WakeSourceFactory {
  return (onWake) => {
    const offsetNs = monotonicOffsetNs(clock);
    verbs.setTimerSlackNs(timerSlackNs);
    const handle = verbs.create(() => onWake());
    let open = true;
    const source: WakeSource = {
      kind: 'timerfd',
      arm: (atUs: Microseconds) => verbs.arm(handle, atUs * 1000 + offsetNs),
      disarm: () => { if (open) verbs.disarm(handle); },
      close: () => {
        if (!open) return;
        open = false;
        verbs.close(handle);
      },
    };
    return source;
  };
}
