import { performance } from 'node:perf_hooks';
import type { Microseconds } from './units';

/** Injected wherever time matters so schedulers and stats are testable without sleeping. */
export interface Clock {
  nowUs(): Microseconds;
}

/** performance.now() is monotonic with sub-µs resolution and much cheaper than hrtime.bigint() in the hot path. */
export const monotonicClock: Clock = { nowUs: () => performance.now() * 1000 };

/** The timer functions a scheduler needs; tests pass fakes driven by a fake clock. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setImmediate(fn: () => void): unknown;
  clearImmediate(handle: unknown): void;
}

export const nodeTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setImmediate: (fn) => setImmediate(fn),
  clearImmediate: (h) => clearImmediate(h as NodeJS.Immediate),
};
