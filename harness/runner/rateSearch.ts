import { parseDurationUs } from '../../workloads/durationParse';
import { percentShare, type RateSearchSettings } from '../profile/profileSchema';

/*
 * The search for the highest open-loop rate that meets an objective (`load.search` in a profile), after
 * Nighthawk's adaptive load controller (envoyproxy/nighthawk, source/adaptive_load/step_controller_impl.cc,
 * ExponentialSearchStepController): start at `from`, multiply the rate by 2 while it passes, then bisect
 * between the highest passing and the lowest failing rate. Nighthawk scores each threshold +1 / −1
 * (BinaryScoringFunction) and passes a benchmark when the weighted sum is above 0; with meshbench's two
 * equal-weight thresholds (P99, error share) that is "both pass".
 *
 * Where meshbench differs from Nighthawk, on purpose:
 * - a probe budget (`maxProbes`, 12 by default) instead of a 300 s convergence deadline, so a run's length
 *   is known in advance; the search also ends once the highest passing and lowest failing rates are within
 *   `resolution` of each other (Nighthawk: successive rates within 1 %);
 * - a verdict near its limit (the figure within ±`closeMargin` of it), and a fail measured while the
 *   machine was noisy (the step's noise fingerprint flagged other work or CPU steal: noise only ever makes
 *   latency worse, so a pass under noise stands), is provisional: where it is an end of the bracket it is
 *   probed again and decided by a majority of up to three probes, because one short step near the knee,
 *   or during someone else's compile, is a coin toss; Nighthawk takes every benchmark at its word;
 * - a first rate that fails ends the search with "below `from`" (Nighthawk: "doomed"), and a rate that
 *   passes at `to` ends it with "at least `to`" (Nighthawk has no ceiling);
 * - no final "testing stage" at the converged rate: the answer is the interval the probes proved.
 *
 * Pure: the probes are run by an injected function, so the search is tested on synthetic curves and the
 * summary replays it from the step records (`searchResult`).
 */

/** What a rate must meet to pass. Null: that figure is not part of the objective. */
export interface SearchObjective {
  /** Highest P99 latency (µs, coordinated-omission corrected, every request of the window). */
  readonly p99Us: number | null;
  /** Highest share (0–1) of requests that failed or got a status outside 2xx. */
  readonly errorShare: number | null;
}

/** How the search is run (the profile's `load.search`, resolved). */
export interface RateSearchConfig {
  readonly objective: SearchObjective;
  /** First rate tried, requests per second. */
  readonly fromQps: number;
  /** Highest rate tried, requests per second. */
  readonly toQps: number;
  /** Probes in all (repeats included); the search stops at this count. */
  readonly maxProbes: number;
  /** Stop once (lowest failing − highest passing) ÷ highest passing ≤ this share. */
  readonly resolution: number;
  /** A figure within ±this share of its limit makes the verdict close: the rate is probed again. */
  readonly closeMargin: number;
  /** Exponential phase factor (Nighthawk's exponential_factor, 2). */
  readonly factor: number;
}

/**
 * Defaults for what the profile does not set: Nighthawk's factor 2; a close band of ±25 %: the P99 of a
 * 2 s probe at a few thousand requests per second moves by about that much between repetitions on a
 * shared 2-core machine (3.4–6.1 ms at the same rates in the development runs).
 */
export const defaultCloseMargin = 0.25;
export const defaultFactor = 2;

/** What one probe (one short clean step at a fixed rate) measured. */
export interface ProbeMeasurement {
  /** Answered requests ÷ the measured window. */
  readonly achievedQps: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  /** Requests of the window (answered and failed). */
  readonly requests: number;
  /** Requests that failed or got a status outside 2xx (fortio's error rule: the load result's errorLatency count). */
  readonly errors: number;
  /** CPU per answered request of every component (µs); null when not measured (no cgroups). */
  readonly cpuUsPerRequest: number | null;
  /** The step record holding this probe. */
  readonly stepId: string;
  /** The step's noise fingerprint flagged it (other work on the machine, CPU steal); absent = not known. */
  readonly noisy?: boolean;
}

export type Verdict = 'pass' | 'fail';

/** One probe as the search judged it. */
export interface SearchProbe extends ProbeMeasurement {
  /** 1-based, in the order run. */
  readonly probe: number;
  /** Offered (open-loop) rate, requests per second. */
  readonly qps: number;
  /** Error share of this probe, 0–1 (errors ÷ requests; 1 when no request was recorded). */
  readonly errorShare: number;
  readonly verdict: Verdict;
  /** A figure lay within ±closeMargin of its limit, or it failed on a noisy machine: the rate was (or would have been) probed again. */
  readonly close: boolean;
  /** Why it failed, or the nearest limit when it passed: "P99 6.1ms > 5ms". */
  readonly reason: string;
}

/**
 * How the search ended: `converged` (bracket within `resolution`), `budget` (maxProbes used first),
 * `reached-to` (passed at `to`: the rate is at least `to`), `below-from` (failed at `from`),
 * `interrupted` (stopped before it ended).
 */
export type SearchOutcome = 'converged' | 'budget' | 'reached-to' | 'below-from' | 'interrupted';

/** The answer: the highest rate proved to pass, and the interval the true maximum is known to lie in. */
export interface RateSearchResult {
  /** Highest rate whose verdict is pass; null when none passed. */
  readonly maxQps: number | null;
  /** The maximum lies in [low, high): low = highest passing rate, high = lowest failing rate; null = unbounded on that side. */
  readonly knownWithin: { readonly low: number | null; readonly high: number | null };
  readonly outcome: SearchOutcome;
  readonly probes: readonly SearchProbe[];
  /** One sentence: how the search ended and what the answer means. */
  readonly note: string;
}

const fmtMs = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(us >= 10_000 ? 1 : 2)}ms` : `${Math.round(us)}µs`);
const fmtPct = (share: number): string => `${(100 * share).toFixed(share < 0.01 ? 2 : 1)}%`;

/**
 * Judges one probe against the objective: pass when every set limit holds (Nighthawk's binary scoring,
 * equal weights). Close when a set figure lies within ±closeMargin of its limit (relative to the limit; an
 * error limit of 0 is never close: one error fails it), or when it failed while the machine was noisy.
 */
export function judgeProbe(m: ProbeMeasurement, objective: SearchObjective, closeMargin: number): Pick<SearchProbe, 'verdict' | 'close' | 'reason' | 'errorShare'> {
  const errorShare = m.requests > 0 ? m.errors / m.requests : 1;
  const fails: string[] = [];
  const near: string[] = [];
  let close = false;
  const check = (value: number, limit: number, text: (op: string) => string): void => {
    if (value > limit) fails.push(text('>'));
    else near.push(text('≤'));
    if (limit > 0 && Math.abs(value - limit) <= closeMargin * limit) close = true;
  };
  if (objective.p99Us !== null) check(m.p99Us, objective.p99Us, (op) => `P99 ${fmtMs(m.p99Us)} ${op} ${fmtMs(objective.p99Us as number)}`);
  if (objective.errorShare !== null) check(errorShare, objective.errorShare, (op) => `errors ${fmtPct(errorShare)} ${op} ${fmtPct(objective.errorShare as number)}`);
  if (m.requests === 0) fails.unshift('no request recorded');
  const verdict: Verdict = fails.length > 0 ? 'fail' : 'pass';
  // Noise only makes latency worse: a fail on a noisy machine is worth a second look, a pass is not.
  const noisyFail = verdict === 'fail' && m.noisy === true;
  return { verdict, close: close || noisyFail, reason: `${fails.length > 0 ? fails.join(', ') : near.join(', ')}${noisyFail ? ' (noisy machine)' : ''}`, errorShare };
}

/**
 * The verdict of one rate from its probes: one probe that is not close decides; a close one is repeated;
 * two that agree decide; two that disagree take a third; three decide by majority. Undefined while
 * undecided. `final` (no budget left): a single close probe stands, a 1–1 split counts as fail.
 */
export function rateVerdict(probes: readonly SearchProbe[], final = false): Verdict | undefined {
  const [a, b, c] = probes;
  if (a === undefined) return undefined;
  if (b === undefined) return !a.close || final ? a.verdict : undefined;
  if (c === undefined) return a.verdict === b.verdict ? a.verdict : final ? 'fail' : undefined;
  const passes = [a, b, c].filter((p) => p.verdict === 'pass').length;
  return passes >= 2 ? 'pass' : 'fail';
}

interface SearchState {
  /** Highest rate whose (provisional) verdict is pass, below `high`. */
  readonly low: number | null;
  /** Lowest rate whose (provisional) verdict is fail. */
  readonly high: number | null;
  /** Rates whose verdict is provisional: a lone close probe, or a 1–1 split. */
  readonly undecided: ReadonlySet<number>;
}

/**
 * The bracket from provisional verdicts (a lone close probe stands for now, a split counts as fail), and
 * which rates still need another probe to be decided.
 */
function state(probes: readonly SearchProbe[]): SearchState {
  const byRate = new Map<number, SearchProbe[]>();
  for (const p of probes) byRate.set(p.qps, [...(byRate.get(p.qps) ?? []), p]);
  const undecided = new Set<number>();
  const passes: number[] = [];
  let high: number | null = null;
  for (const [qps, ps] of byRate) {
    if (rateVerdict(ps) === undefined) undecided.add(qps);
    if (rateVerdict(ps, true) === 'pass') passes.push(qps);
    else high = high === null ? qps : Math.min(high, qps);
  }
  const below = passes.filter((q) => high === null || q < high);
  return { low: below.length === 0 ? null : Math.max(...below), high, undecided };
}

/**
 * The next rate to probe, or how the search ended. Replayable: a function of the probes so far alone.
 * A provisional verdict is settled only where it matters, at the ends of the bracket: a provisional fail
 * at the lowest failing rate at once (a false fail, usually noise, would send every later probe into the
 * wrong range); a provisional pass at the highest passing rate once a fail bounds the bracket (in the
 * exponential phase a higher rate that passes makes it moot, so the noise floor at low rates costs no
 * repeats).
 */
export function nextRate(config: RateSearchConfig, probes: readonly SearchProbe[]): { qps: number } | { end: Exclude<SearchOutcome, 'interrupted'> } {
  if (probes.length === 0) return { qps: config.fromQps };
  const s = state(probes);
  const converged = s.low !== null && s.high !== null && ((s.high - s.low) / s.low <= config.resolution || Math.round((s.low + s.high) / 2) <= s.low || Math.round((s.low + s.high) / 2) >= s.high);
  if (probes.length >= config.maxProbes) {
    if (s.low === null) return { end: 'below-from' };
    if (s.low >= config.toQps) return { end: 'reached-to' };
    return { end: converged ? 'converged' : 'budget' };
  }
  if (s.high !== null && s.undecided.has(s.high)) return { qps: s.high };
  if (s.low === null) return { end: 'below-from' };
  const verifyLow = s.undecided.has(s.low) ? { qps: s.low } : undefined;
  if (s.high === null) {
    if (s.low >= config.toQps) return verifyLow ?? { end: 'reached-to' };
    return { qps: Math.min(config.toQps, Math.round(s.low * config.factor)) };
  }
  if (verifyLow !== undefined) return verifyLow;
  if (converged) return { end: 'converged' };
  return { qps: Math.round((s.low + s.high) / 2) };
}

/** The result of a search from its probes (the same function the driver ends with; the summary replays it). */
export function searchResult(config: RateSearchConfig, probes: readonly SearchProbe[], interrupted = false): RateSearchResult {
  const next = nextRate(config, probes);
  const outcome: SearchOutcome = interrupted || !('end' in next) ? 'interrupted' : next.end;
  const s = state(probes);
  const knownWithin = { low: s.low, high: s.high };
  const n = `${probes.length} probe${probes.length === 1 ? '' : 's'}`;
  const note = outcome === 'converged' ? `converged in ${n}: the maximum lies between ${s.low} and ${s.high} qps`
    : outcome === 'budget' ? `stopped at the ${config.maxProbes}-probe budget: the maximum lies between ${s.low ?? '?'} and ${s.high ?? 'more than that'} qps`
      : outcome === 'reached-to' ? `passed at the highest rate tried (${config.toQps} qps) in ${n}: the maximum is at least that`
        : outcome === 'below-from' ? `failed at the first rate (${config.fromQps} qps): the maximum is below it`
          : `interrupted after ${n}${s.low === null ? '' : `: at least ${s.low} qps passed`}`;
  return { maxQps: s.low, knownWithin, outcome, probes: [...probes], note };
}

/**
 * Runs the search: asks `runProbe` for one measurement per probe (undefined = interrupted) until the
 * search ends, and returns the answer. `runProbe` gets the rate and the probe's 1-based number.
 */
export async function searchMaxRate(
  config: RateSearchConfig,
  runProbe: (qps: number, probe: number) => Promise<ProbeMeasurement | undefined>,
  onProbe: (p: SearchProbe) => void = () => undefined,
): Promise<RateSearchResult> {
  const probes: SearchProbe[] = [];
  for (;;) {
    const next = nextRate(config, probes);
    if ('end' in next) return searchResult(config, probes);
    const m = await runProbe(next.qps, probes.length + 1);
    if (m === undefined) return searchResult(config, probes, true);
    const p: SearchProbe = { ...m, probe: probes.length + 1, qps: next.qps, ...judgeProbe(m, config.objective, config.closeMargin) };
    probes.push(p);
    onProbe(p);
  }
}

/** The search's configuration from a profile's resolved `load.search`. */
export function rateSearchConfig(s: RateSearchSettings): RateSearchConfig {
  return {
    objective: {
      p99Us: s.p99 === undefined ? null : (parseDurationUs(s.p99, 's') ?? null),
      errorShare: s.errors === undefined ? null : percentShare(s.errors),
    },
    fromQps: s.from,
    toQps: s.to,
    maxProbes: s.maxProbes,
    resolution: percentShare(s.resolution),
    closeMargin: defaultCloseMargin,
    factor: defaultFactor,
  };
}
