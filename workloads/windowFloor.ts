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

/**
 * The highest open-loop rate meshbench accepts, 200,000 requests per second. The runner accounts for each due
 * request one by one (routed to its connection, and recorded as `unsent` or `overflow` when no connection is
 * free), ~0.4 µs each on this 2-core machine (measured: `-q 1e9 -t 1s` took 361 s of CPU for ~1e9 requests).
 * Above ~2.5 million per second that accounting outruns the clock: the event loop never catches up, the run
 * cannot end in its window nor be interrupted. At 200,000 it takes < 10 % of a core, and the rate is still
 * ~4× what one Node client gets answered by the local echo (52,000 qps; README, load, Highest rate). wrk2
 * (`-R`) and fortio (`-qps`) take any rate and fall behind silently; meshbench refuses instead, in one line.
 */
export const maxQps = 200_000;

/** Why `qps` is above maxQps (e.g. "1000000000 is above the highest rate meshbench can schedule …"), or null. */
export function rateTooHighProblem(qps: number): string | null {
  if (qps <= maxQps) return null;
  return `${qps} is above the highest rate meshbench schedules, ${maxQps} requests per second (one Node client sends far fewer; use --qps 0 for as fast as possible)`;
}
