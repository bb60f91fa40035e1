import { formatDurationUs } from './durationParse';
import type { Microseconds } from './units';

/**
 * The shortest measured window a rate can be read from, 1 ms: one tick of libuv's timers (whole
 * milliseconds), which the runner's drain, progress and fallback timers run on, so a shorter window
 * cannot be closed on time.
 */
export const timerResolutionUs: Microseconds = 1000;

/**
 * The shortest measured window (µs) at `qps` requests per second (0: closed loop): 1 ms (timerResolutionUs),
 * and in open loop at least one request interval, 1/qps, rounded up to whole milliseconds (so the figure
 * the error message prints, in ms or s to 3 decimals, is itself accepted). A shorter window holds no scheduled request or
 * a fraction of one, and completed ÷ window then reads as a rate far from the one offered (8 qps over
 * 100 µs once read as 10,000 qps achieved).
 */
export function minimumWindowUs(qps: number): Microseconds {
  const intervalUs = qps > 0 ? 1e6 / qps : 0;
  return Math.max(timerResolutionUs, Math.ceil(intervalUs / timerResolutionUs) * timerResolutionUs);
}

/**
 * Why `durationUs` is too short to measure a rate at `qps` (e.g. "too short to measure a rate: at least
 * 125ms at 8 qps, one request interval"), or null when it is long enough. The caller prefixes the
 * setting's name and throws a BadInputError.
 */
export function windowTooShortProblem(durationUs: Microseconds, qps: number): string | null {
  const minUs = minimumWindowUs(qps);
  if (durationUs >= minUs) return null;
  const why = minUs > timerResolutionUs ? `at ${qps} qps, one request interval` : 'the timers\' resolution';
  return `${formatDurationUs(durationUs)} is too short to measure a rate: at least ${formatDurationUs(minUs)} (${why})`;
}
