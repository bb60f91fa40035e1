import { parseDurationUs } from '../../workloads/durationParse';
import { percentShare, type RateSearchSettings } from '../profile/profileSchema';
import { formatUs } from '../results/formatUnits';
import type { QuietWait } from './quietGate';

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
 * - a probe lasts at least `minRequests` requests (10,000 by default: 100 ÷ (1 − 0.99), so the P99 is the
 *   100th-slowest request, not one outlier; Nighthawk's 10 s measuring period does the same at ~1000 qps
 *   and up), or the configured duration when that is longer;
 * - a rate's verdict is that of the median of its probes (the median P99, the median error share): a probe
 *   near its limit (the figure within ±`closeMargin` of it), or one that failed while other work used
 *   more than `noisyShare` of the machine (probeNoisy), is provisional: where it is an end of the
 *   bracket the rate is probed again (at most `maxProbesPerRate` probes), because one short step near the
 *   knee, or during someone else's compile, is a coin toss; Nighthawk takes every benchmark at its word.
 *   Such a noisy fail is inconclusive and left out of the verdict while the rate has other probes: noise
 *   only ever takes CPU away, so a pass under noise stands;
 * - probes may wait, bounded, for the machine to quiet before they start (`load.search.quiet`, quietGate.ts:
 *   the runner's side; this module sees only the measurements);
 * - the final bracket is confirmed (`confirmBounds`): before the search ends, the highest passing rate must
 *   pass again and the lowest failing rate fail again (each decided by at least two probes); a rate that
 *   turns over moves the bracket and the search goes on. This takes the place of Nighthawk's final
 *   "testing stage" at the converged rate, and checks the fail as well as the pass;
 * - a first rate that fails ends the search with "below `from`" (Nighthawk: "doomed"), and a rate that
 *   passes at `to` ends it with "at least `to`" (Nighthawk has no ceiling);
 * - a fail on P99 right after an overload at a higher rate is inconclusive too (`debtRule`), and near the knee
 *   the exponential phase steps by 1 + resolution instead of 2 (`nearLimitFactor`): an overload's debt
 *   outlives its probe, and the deeper the overload the longer (nearLimitStep);
 * - with `fit: 'isotonic-median'` (profiles), rates are judged by an L1 isotonic fit of every conclusive probe's
 *   ln(figure ÷ limit) against the rate (isotonicFit), and the answer is where the fit crosses the objective
 *   (crossingQps), with the fit's bracket; Nighthawk reports the last converged rate;
 * - the answer comes with the interval the probes proved, `[highest passing, lowest failing)`.
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
  /**
   * A probe's window holds at least this many requests (its duration is stretched at low rates); absent
   * in results written before it existed (then the configured duration alone).
   */
  readonly minRequests?: number;
  /** Probes of one rate at most (repeats of a close verdict); absent in older results: 3. */
  readonly maxProbesPerRate?: number;
  /** Confirm both ends of the final bracket with a second probe each; absent in older results: false. */
  readonly confirmBounds?: boolean;
  /**
   * A probe is noisy when other work used more than this share (0–1) of the machine's CPUs during its
   * window, or the hypervisor stole CPU; absent in older results: the step's noise flags (10 %) decide.
   */
  readonly noisyShare?: number;
  /**
   * The exponential phase's factor once the highest passing rate's P99 or error share is within
   * closeMargin of its limit, or it had a conclusive fail that later probes overturned (the knee is near):
   * 1 + resolution in profiles (see nearLimitStep), so no probe overloads the data plane by more than that, and
   * a fail there ends the bracket at once. Results written before 2026-11-30 hold 1 + 2 × resolution; absent in
   * older ones: `factor` throughout.
   */
  readonly nearLimitFactor?: number;
  /**
   * A fail on latency alone right after an overload at a higher rate (a probe that broke the error limit) is
   * inconclusive (`afterHigherFail`, judgeNext): an overload leaves debt on the machine that outlives its
   * probe and even the deployment (on the development machine a 32,000 qps baseline probe that had passed at
   * 4.8 ms failed twice, on fresh deployments, right after a 64,000 qps probe). Absent in older results: false.
   */
  readonly debtRule?: boolean;
  /**
   * How the bracket and the answer come from the probes. `isotonic-median`: a monotone (L1 isotonic) fit of
   * every conclusive probe's distance to the objective against the offered rate (isotonicFit), so a rate's
   * verdict is the median of its probes pooled with its neighbours' where they disagree with the order, and
   * the answer is where the fit crosses the objective (crossingQps). Absent in older results: each rate
   * judged by its own probes alone (rateVerdict), the answer the highest passing rate.
   */
  readonly fit?: 'isotonic-median';
}

/**
 * Defaults for what the profile does not set: Nighthawk's factor 2; a close band of ±25 %: the P99 of a
 * 2 s probe at a few thousand requests per second moves by about that much between repetitions on a
 * shared 2-core machine (3.4–6.1 ms at the same rates in the development runs).
 */
export const defaultCloseMargin = 0.25;
export const defaultFactor = 2;
/**
 * Requests per probe by default: 100 ÷ (1 − 0.99). With n samples the P99 is the n·(1 − 0.99)-th slowest
 * request; at 100 of them one stalled request (or one scheduler slice that holds a few back) moves it
 * little, where at 1000 samples (a 2 s probe at 500 qps) it is the 10th slowest, and ten requests caught
 * behind one wake-up set it.
 */
export const defaultMinRequests = 10_000;
/** Probes of one rate at most: a split of two takes a third, whose median decides. */
export const defaultMaxProbesPerRate = 3;
/**
 * Other work above a quarter of the machine (half a core of 2) during a probe makes its P99 fail
 * inconclusive. The fingerprint flags a step at 10 % (harness/resources/noiseFingerprint.ts), which on a
 * shared machine is nearly every step: its flag says "read with care", this share says "the fail may be
 * the neighbour's".
 */
export const defaultNoisyShare = 0.25;

/** Pure: whether a probe counts as measured on a noisy machine under `config` (its share if known, else its noise flag). */
export function probeNoisy(m: Pick<ProbeMeasurement, 'noisy' | 'otherShare' | 'stolen'>, config: Pick<RateSearchConfig, 'noisyShare'>): boolean {
  if (config.noisyShare === undefined || m.otherShare === undefined) return m.noisy === true;
  return m.otherShare > config.noisyShare || m.stolen === true;
}

/**
 * A probe's measured window (µs) at `qps`: the configured `durationUs`, stretched so that it holds at
 * least `config.minRequests` requests at that rate.
 */
export function probeDurationUs(config: Pick<RateSearchConfig, 'minRequests'>, qps: number, durationUs: number): number {
  const min = config.minRequests ?? 0;
  if (min <= 0 || qps <= 0) return durationUs;
  return Math.max(durationUs, Math.ceil((1e6 * min) / qps / 1000) * 1000);
}

/** What one probe (one short clean step at a fixed rate) measured. */
export interface ProbeMeasurement {
  /** Answered requests ÷ the measured window; null when no rate was measured (a 0 s window: interrupted). */
  readonly achievedQps: number | null;
  /** Latency percentiles and maximum of the window (µs, CO-corrected); null when the probe recorded no request. */
  readonly p50Us: number | null;
  readonly p99Us: number | null;
  readonly maxUs: number | null;
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
  /** Share (0–1) of the machine's CPUs that other work used during the window (the noise fingerprint); absent = not known. */
  readonly otherShare?: number;
  /** The fingerprint flagged CPU steal by the hypervisor; absent = not known. */
  readonly stolen?: boolean;
  /** How long the probe waited for the machine to quiet before it started (`load.search.quiet`); absent: no wait. */
  readonly quietWait?: QuietWait;
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
  /**
   * The verdict is provisional and the rate is probed again where it is an end of the bracket: a figure lay
   * within ±closeMargin of its limit, or the probe was an inconclusive fail (`noisyFail`, `afterHigherFail`).
   */
  readonly provisional: boolean;
  /** Why it failed, or the nearest limit when it passed: "P99 6.10 ms > 5.00 ms". */
  readonly reason: string;
  /**
   * It failed while the machine was noisy (probeNoisy): inconclusive, since other work only takes CPU away.
   * Left out of its rate's verdict while the rate has other probes (rateVerdict).
   */
  readonly noisyFail?: boolean;
  /**
   * It failed on latency alone right after an overload at a higher rate (`debtRule`, judgeNext):
   * inconclusive, since the overload outlives its probe. Left out like a noisy fail.
   */
  readonly afterHigherFail?: boolean;
}

/**
 * How the search ended: `converged` (bracket within `resolution`), `budget` (maxProbes used first),
 * `reached-to` (passed at `to`: the rate is at least `to`), `below-from` (failed at `from`),
 * `interrupted` (stopped before it ended).
 */
export type SearchOutcome = 'converged' | 'budget' | 'reached-to' | 'below-from' | 'interrupted';

/** The answer: the highest rate proved to pass, and the interval the true maximum is known to lie in. */
export interface RateSearchResult {
  /** Highest rate whose verdict is pass (under `fit`, whose fitted figures meet the objective); null when none passed. */
  readonly maxQps: number | null;
  /**
   * Under `fit` (absent otherwise): the rate where the fitted figures cross the objective, between `low`
   * and `high` (crossingQps): the search's answer. Null when the bracket has only one end.
   */
  readonly estimateQps?: number | null;
  /** The maximum lies in [low, high): low = highest passing rate, high = lowest failing rate; null = unbounded on that side. */
  readonly knownWithin: { readonly low: number | null; readonly high: number | null };
  readonly outcome: SearchOutcome;
  readonly probes: readonly SearchProbe[];
  /**
   * Both ends of the bracket that exist were decided by at least two probes each (the highest passing rate
   * passed again, the lowest failing rate failed again). False when the budget ran out first, or for
   * searches run without `confirmBounds`.
   */
  readonly confirmed: boolean;
  /** One sentence: how the search ended and what the answer means. */
  readonly note: string;
}

/** A share as the reports write it: "0.10 %", "1.0 %". */
export const formatShare = (share: number): string => `${(100 * share).toFixed(share < 0.01 ? 2 : 1)} %`;

/**
 * Judges one probe against the objective: pass when every set limit holds (Nighthawk's binary scoring,
 * equal weights). Close when a set figure lies within ±closeMargin of its limit (relative to the limit; an
 * error limit of 0 is never close: one error fails it), or when it failed while the machine was noisy
 * (probeNoisy with `noisyShare`; then also `noisyFail`).
 */
export function judgeProbe(m: ProbeMeasurement, objective: SearchObjective, closeMargin: number, noisyShare?: number): Pick<SearchProbe, 'verdict' | 'provisional' | 'reason' | 'errorShare' | 'noisyFail'> {
  const errorShare = m.requests > 0 ? m.errors / m.requests : 1;
  const fails: string[] = [];
  const near: string[] = [];
  let close = false;
  const check = (value: number, limit: number, text: (op: string) => string): void => {
    if (value > limit) fails.push(text('>'));
    else near.push(text('≤'));
    if (limit > 0 && Math.abs(value - limit) <= closeMargin * limit) close = true;
  };
  // A probe without a P99 (no request recorded) fails as such below, not on a made-up latency.
  if (objective.p99Us !== null && m.p99Us !== null) { const p99 = m.p99Us; check(p99, objective.p99Us, (op) => `P99 ${formatUs(p99)} ${op} ${formatUs(objective.p99Us as number)}`); }
  if (objective.errorShare !== null) check(errorShare, objective.errorShare, (op) => `errors ${formatShare(errorShare)} ${op} ${formatShare(objective.errorShare as number)}`);
  if (m.requests === 0) fails.unshift('no request recorded');
  const verdict: Verdict = fails.length > 0 ? 'fail' : 'pass';
  // Other work only takes CPU away: a pass under it stands, a fail under it is worth a second look. That holds
  // for a fail on errors too: on a shared machine the load client, the data plane and the server all give
  // CPU to the neighbour, and a backlog of unsent requests is what losing it looks like (a 20,000 qps
  // baseline probe failed with 622 unsent while other work used 30 % of the machine, and passed with none
  // on a quiet one). A probe with no request recorded is broken, not noisy.
  const noisyFail = verdict === 'fail' && m.requests > 0 && probeNoisy(m, { noisyShare });
  return { verdict, provisional: close || noisyFail, reason: `${fails.length > 0 ? fails.join(', ') : near.join(', ')}${noisyFail ? ' (noisy machine)' : ''}`, errorShare, noisyFail };
}

/**
 * Judges the next probe of a search, at `qps`, after `previous` (the search's probes so far, in order):
 * judgeProbe, and under `config.debtRule` a fail on latency alone (its error share within the limit) right
 * after an overload at a higher rate (a probe whose error share, its unsent and failed requests, broke the
 * limit) is inconclusive (`afterHigherFail`, provisional). Only after an overload: a fail on P99 alone left
 * debt that a fresh deployment cleared (24,000 qps after a failing 32,000 passed in 3 runs of 3), and a fail
 * on errors is an overload of its own, not an echo. The search and the summary's replay both judge this way.
 */
export function judgeNext(config: RateSearchConfig, previous: readonly SearchProbe[], qps: number, m: ProbeMeasurement): SearchProbe {
  const j = judgeProbe(m, config.objective, config.closeMargin, config.noisyShare);
  const last = previous[previous.length - 1];
  const errorLimit = config.objective.errorShare ?? 0;
  const afterHigherFail = config.debtRule === true && j.verdict === 'fail' && m.requests > 0 && j.errorShare <= errorLimit
    && last !== undefined && last.qps > qps && (last.requests === 0 || last.errorShare > errorLimit);
  const probe = { ...m, probe: previous.length + 1, qps, ...j };
  return afterHigherFail ? { ...probe, provisional: true, afterHigherFail, reason: `${j.reason} (right after an overload at a higher rate)` } : probe;
}

const median = (values: readonly number[]): number => {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
};

/**
 * The verdict of the median of a rate's probes: its median P99 (a probe with no request counts as
 * infinitely slow) and its median error share against the objective. Pure; `probes` must not be empty.
 */
export function medianVerdict(probes: readonly SearchProbe[], objective: SearchObjective): Verdict {
  const p99 = median(probes.map((p) => (p.requests === 0 || p.p99Us === null ? Number.POSITIVE_INFINITY : p.p99Us)));
  const errors = median(probes.map((p) => p.errorShare));
  const fails = (objective.p99Us !== null && p99 > objective.p99Us) || (objective.errorShare !== null && errors > objective.errorShare) || probes.every((p) => p.requests === 0);
  return fails ? 'fail' : 'pass';
}

/** Pure: a probe that is not an inconclusive fail (a noisy fail, or a fail right after a failing higher rate). */
export const conclusive = (p: Pick<SearchProbe, 'noisyFail' | 'afterHigherFail'>): boolean => p.noisyFail !== true && p.afterHigherFail !== true;

/**
 * The verdict of one rate from its probes. An inconclusive fail (a noisy fail, or one right after a failing
 * higher rate under `debtRule`); a noisy fail (a fail on P99 alone while the machine was noisy:
 * noise only adds latency, so it says nothing the rate's other probes do not) is left out while the rate
 * has other probes; of the rest, one probe that is not close decides; a close one is repeated; two on the
 * same side of the limits decide; two that disagree take a third; from three on, the median of the
 * probes decides (medianVerdict; with one limit, the majority). Undefined while undecided. `final` (no
 * budget left), or `perRate` probes at the rate: a single close probe stands, a 1–1 split counts as fail
 * (the median of two sits between a pass and a fail; the answer stays on the side the probes proved), and
 * a rate with noisy fails alone fails.
 */
export function rateVerdict(probes: readonly SearchProbe[], final = false, objective?: SearchObjective, perRate = defaultMaxProbesPerRate): Verdict | undefined {
  if (probes.length === 0) return undefined;
  const settled = final || probes.length >= perRate;
  const informative = probes.filter(conclusive);
  const [a, b, c] = informative;
  if (a === undefined) return settled ? 'fail' : undefined;
  if (b === undefined) return !a.provisional || settled ? a.verdict : undefined;
  if (c === undefined) return a.verdict === b.verdict ? a.verdict : settled ? 'fail' : undefined;
  if (objective !== undefined) return medianVerdict(informative, objective);
  const passes = informative.filter((p) => p.verdict === 'pass').length;
  return 2 * passes > informative.length ? 'pass' : 'fail';
}

/**
 * A probe's distance to the objective, as a natural log: the largest of (figure ÷ limit) over the set
 * limits, so above 0 exactly when judgeProbe fails it. An error limit of 0 and a probe with no request give
 * ±`scoreCap` (one error fails it, a broken probe is as slow as it gets); every score is clamped to
 * ±`scoreCap` (ln 1000: a 5 s P99 against a 5 ms limit), so an overload's figures weigh as one fail, not
 * as a lever on the fit.
 */
export function probeScore(p: Pick<SearchProbe, 'p99Us' | 'errorShare' | 'requests'>, objective: SearchObjective): number {
  if (p.requests === 0 || p.p99Us === null) return scoreCap;
  const p99Us = p.p99Us;
  const clamp = (x: number): number => Math.max(-scoreCap, Math.min(scoreCap, x));
  const parts: number[] = [];
  if (objective.p99Us !== null) parts.push(clamp(Math.log(Math.max(p99Us, 1e-9) / objective.p99Us)));
  if (objective.errorShare !== null) {
    parts.push(objective.errorShare === 0 ? (p.errorShare > 0 ? scoreCap : -scoreCap) : clamp(Math.log(Math.max(p.errorShare, 1e-12) / objective.errorShare)));
  }
  return parts.length === 0 ? -scoreCap : Math.max(...parts);
}
/** ±ln 1000: the clamp of probeScore. */
export const scoreCap = Math.log(1000);

/** One offered rate of the fit: its probes' scores and the fitted (monotone) score. */
export interface FittedRate {
  readonly qps: number;
  /** probeScore of each probe of this rate that went into the fit. */
  readonly scores: readonly number[];
  /** The fit at this rate: the median of the scores of its block (ln of figure ÷ limit; ≤ 0 passes). */
  readonly fitted: number;
}

/**
 * Pure: the L1 isotonic regression of scores against rate (the fit is non-decreasing in the rate, and the
 * sum of absolute deviations is least), by the pool-adjacent-violators algorithm with block medians, which
 * gives an L1 isotonic fit (Robertson, Wright and Dykstra, Order Restricted Statistical Inference, 1988,
 * §1.4; the mean gives the L2 fit). A median, because one probe's P99 at a rate near the knee is a
 * long-tailed draw (3.2–8.4 ms at 28,000 qps on the development machine) and one stalled probe must not
 * move a whole block. `points`: any order, several per rate; the answer has one entry per rate, ascending.
 * The median of an even count is the mean of its two middle scores.
 */
export function isotonicFit(points: readonly { readonly qps: number; readonly score: number }[]): FittedRate[] {
  const byRate = new Map<number, number[]>();
  for (const p of points) byRate.set(p.qps, [...(byRate.get(p.qps) ?? []), p.score]);
  const rates = [...byRate.keys()].sort((a, b) => a - b);
  const blocks: { rates: number[]; scores: number[]; value: number }[] = [];
  for (const qps of rates) {
    const scores = byRate.get(qps) as number[];
    blocks.push({ rates: [qps], scores: [...scores], value: median(scores) });
    for (;;) {
      const last = blocks[blocks.length - 1] as (typeof blocks)[number];
      const prev = blocks[blocks.length - 2];
      if (prev === undefined || prev.value <= last.value) break;
      blocks.splice(blocks.length - 2, 2, { rates: [...prev.rates, ...last.rates], scores: [...prev.scores, ...last.scores], value: median([...prev.scores, ...last.scores]) });
    }
  }
  return blocks.flatMap((b) => b.rates.map((qps) => ({ qps, scores: byRate.get(qps) as number[], fitted: b.value })));
}

/** The probes a fit uses: the conclusive ones, and a rate's inconclusive fails only where the rate has nothing else. */
export function fitProbes(probes: readonly SearchProbe[]): SearchProbe[] {
  const hasConclusive = new Set(probes.filter(conclusive).map((p) => p.qps));
  return probes.filter((p) => conclusive(p) || !hasConclusive.has(p.qps));
}

/**
 * Pure: where the fitted score crosses 0 (the objective) between the fit's highest passing rate `low` and
 * its lowest failing rate `high`: linear in ln(rate) between their fitted scores (both are logs, so a
 * power law between the two rates), rounded to 10 qps. Null when either end is missing.
 */
export function crossingQps(fit: readonly FittedRate[], low: number | null, high: number | null): number | null {
  if (low === null || high === null) return null;
  const fl = fit.find((f) => f.qps === low)?.fitted;
  const fh = fit.find((f) => f.qps === high)?.fitted;
  if (fl === undefined || fh === undefined || !(fh > fl)) return low;
  const t = Math.min(1, Math.max(0, (0 - fl) / (fh - fl)));
  const q = Math.exp(Math.log(low) + t * (Math.log(high) - Math.log(low)));
  // Rounded to 10 qps, but kept inside [low, high): the lowest failing rate itself is no answer.
  const rounded = Math.round(q / 10) * 10;
  return rounded < high ? Math.max(rounded, low) : Math.max(low, Math.floor(q) < high ? Math.floor(q) : high - 1);
}

interface SearchState {
  /** Highest rate whose (provisional) verdict is pass, below `high`. */
  readonly low: number | null;
  /** Lowest rate whose (provisional) verdict is fail. */
  readonly high: number | null;
  /** Rates whose verdict is provisional: a lone close probe, or a 1–1 split. */
  readonly undecided: ReadonlySet<number>;
  /** Probes run at each rate. */
  readonly counts: ReadonlyMap<number, number>;
  /** The isotonic fit of the probes (fitProbes), every rate, ascending; also computed without `config.fit`. */
  readonly fit: readonly FittedRate[];
}

/**
 * The bracket from provisional verdicts (a lone close probe stands for now, a split counts as fail), and
 * which rates still need another probe to be decided.
 */
function state(probes: readonly SearchProbe[], config: Pick<RateSearchConfig, 'objective' | 'maxProbesPerRate' | 'fit'>): SearchState {
  const { objective } = config;
  const perRate = config.maxProbesPerRate ?? defaultMaxProbesPerRate;
  const byRate = new Map<number, SearchProbe[]>();
  for (const p of probes) byRate.set(p.qps, [...(byRate.get(p.qps) ?? []), p]);
  const undecided = new Set<number>();
  const passes: number[] = [];
  let high: number | null = null;
  for (const [qps, ps] of byRate) {
    if (rateVerdict(ps, false, objective, perRate) === undefined) undecided.add(qps);
    if (rateVerdict(ps, true, objective, perRate) === 'pass') passes.push(qps);
    else high = high === null ? qps : Math.min(high, qps);
  }
  const fit = isotonicFit(fitProbes(probes).map((p) => ({ qps: p.qps, score: probeScore(p, objective) })));
  if (config.fit === 'isotonic-median') {
    // The fit is monotone: every rate below its lowest failing rate passes.
    high = fit.find((f) => f.fitted > 0)?.qps ?? null;
    passes.splice(0, passes.length, ...fit.filter((f) => f.fitted <= 0).map((f) => f.qps));
  }
  const below = passes.filter((q) => high === null || q < high);
  return { low: below.length === 0 ? null : Math.max(...below), high, undecided, counts: new Map([...byRate].map(([q, ps]) => [q, ps.length])), fit };
}

/** The ends of the bracket that exist and are not yet decided by two probes or more (fail end first). */
function unconfirmed(config: RateSearchConfig, s: SearchState): number[] {
  if (config.confirmBounds !== true) return [];
  return [s.high, s.low].filter((q): q is number => q !== null && (s.counts.get(q) ?? 0) < 2);
}

/** The fitted figure at `qps` is within closeMargin below its limit (the knee is near). */
function nearLimit(config: Pick<RateSearchConfig, 'closeMargin'>, s: SearchState, qps: number): boolean {
  const f = s.fit.find((x) => x.qps === qps);
  return f !== undefined && f.fitted >= Math.log(1 - config.closeMargin);
}

/**
 * The probe after a close pass at `lowQps`: `lowQps × factor`, rounded down so that with factor 1 + resolution a
 * fail there is within resolution of the pass and ends the bracket without a bisection probe. Why a small step:
 * a data plane's P99 against the offered rate is a hockey stick, and a probe past the knee by 20 % can collapse it
 * for the rest of the search (netns baseline, CPUs pinned, idle machine: a close pass at 32,000 qps (P99 4.75 ms)
 * stepped by 1.2 to 38,400, which achieved 25,290 qps with a P99 of 2.0 s, and the next three probes failed at
 * rates that passed in the other runs (32,000 twice at 28 and 60 ms, 24,000 at 13.6 ms), so that search answered
 * 26,030 against 30,610 and 30,880 in two runs that never overshot); 10 % past it the fail stays mild (35,200 qps
 * at 6.3 and 5.4 ms, and 32,000 passed again after it).
 */
export function nearLimitStep(lowQps: number, factor: number): number {
  return Math.max(Math.floor(lowQps * factor + 1e-9), lowQps + 1);
}

/**
 * The next rate to probe, or how the search ended. Replayable: a function of the probes so far alone.
 * A provisional verdict is settled only where it matters, at the ends of the bracket: a provisional fail
 * at the lowest failing rate at once (a false fail, usually noise, would send every later probe into the
 * wrong range); a provisional pass at the highest passing rate once a fail bounds the bracket (in the
 * exponential phase a higher rate that passes makes it moot, so the noise floor at low rates costs no
 * repeats). Before the search ends (converged, below `from`, at `to`), each end of the bracket is
 * confirmed by a second probe when `confirmBounds` is set; a rate that turns over moves the bracket.
 */
export function nextRate(config: RateSearchConfig, probes: readonly SearchProbe[]): { qps: number } | { end: Exclude<SearchOutcome, 'interrupted'> } {
  if (probes.length === 0) return { qps: config.fromQps };
  const s = state(probes, config);
  const converged = s.low !== null && s.high !== null && ((s.high - s.low) / s.low <= config.resolution || Math.round((s.low + s.high) / 2) <= s.low || Math.round((s.low + s.high) / 2) >= s.high);
  if (probes.length >= config.maxProbes) {
    if (s.low === null) return { end: 'below-from' };
    if (s.low >= config.toQps) return { end: 'reached-to' };
    return { end: converged ? 'converged' : 'budget' };
  }
  const perRate = config.maxProbesPerRate ?? defaultMaxProbesPerRate;
  const canRepeat = (q: number): boolean => (s.counts.get(q) ?? 0) < perRate;
  // Before ending, the ends of the bracket are confirmed (fail end first: a false fail is what noise makes).
  const confirmOr = (end: Exclude<SearchOutcome, 'interrupted'>): { qps: number } | { end: Exclude<SearchOutcome, 'interrupted'> } => {
    const q = unconfirmed(config, s).find(canRepeat);
    return q === undefined ? { end } : { qps: q };
  };
  if (s.high !== null && s.undecided.has(s.high) && canRepeat(s.high)) return { qps: s.high };
  if (s.low === null) return confirmOr('below-from');
  const verifyLow = s.undecided.has(s.low) && canRepeat(s.low) ? { qps: s.low } : undefined;
  if (s.high === null) {
    if (s.low >= config.toQps) return verifyLow ?? confirmOr('reached-to');
    // Near the knee (the figure within the band, or a fail at this rate that later probes overturned) the
    // step is small: an overshoot by 2 leaves debt (see debtRule).
    const near = nearLimit(config, s, s.low) || probes.some((p) => p.qps >= (s.low as number) && p.verdict === 'fail' && conclusive(p));
    return { qps: Math.min(config.toQps, near ? nearLimitStep(s.low, config.nearLimitFactor ?? config.factor) : Math.round(s.low * config.factor)) };
  }
  if (verifyLow !== undefined) return verifyLow;
  if (converged) return confirmOr('converged');
  return { qps: Math.round((s.low + s.high) / 2) };
}

/**
 * Pure: the note of a search that used its probe budget first, for whichever ends of the bracket it found
 * (qps): both ("between 16000 and 17600 qps"), only a passing rate ("at least 17600 qps: no rate tried
 * failed"), only a failing one ("below 4000 qps: no rate tried passed"), or neither.
 */
export function budgetNote(maxProbes: number, lowQps: number | null, highQps: number | null): string {
  const stopped = `stopped at the ${maxProbes}-probe budget`;
  if (lowQps !== null && highQps !== null) return `${stopped}: the maximum lies between ${lowQps} and ${highQps} qps`;
  if (lowQps !== null) return `${stopped}: the maximum is at least ${lowQps} qps (no rate tried failed)`;
  if (highQps !== null) return `${stopped}: the maximum is below ${highQps} qps (no rate tried passed)`;
  return `${stopped}: no rate tried passed or failed for certain, so the maximum is not bounded`;
}

/** The result of a search from its probes (the same function the driver ends with; the summary replays it). */
export function searchResult(config: RateSearchConfig, probes: readonly SearchProbe[], interrupted = false): RateSearchResult {
  const next = nextRate(config, probes);
  const outcome: SearchOutcome = interrupted || !('end' in next) ? 'interrupted' : next.end;
  const s = state(probes, config);
  const knownWithin = { low: s.low, high: s.high };
  const confirmed = config.confirmBounds === true && unconfirmed(config, s).length === 0 && (s.low !== null || s.high !== null);
  const n = `${probes.length} probe${probes.length === 1 ? '' : 's'}`;
  const proved = config.confirmBounds !== true ? '' : confirmed ? ', both ends confirmed' : ', an end not confirmed';
  const note = outcome === 'converged' ? `converged in ${n}${proved}: the maximum lies between ${s.low} and ${s.high} qps`
    : outcome === 'budget' ? budgetNote(config.maxProbes, s.low, s.high)
      : outcome === 'reached-to' ? `passed at the highest rate tried (${config.toQps} qps) in ${n}: the maximum is at least that`
        : outcome === 'below-from' ? `failed at the first rate (${config.fromQps} qps): the maximum is below it`
          : `interrupted after ${n}${s.low === null ? '' : `: at least ${s.low} qps passed`}`;
  const estimateQps = config.fit === 'isotonic-median' ? crossingQps(s.fit, s.low, s.high) : null;
  return { maxQps: s.low, ...(config.fit === 'isotonic-median' ? { estimateQps } : {}), knownWithin, outcome, probes: [...probes], confirmed, note };
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
    const p = judgeNext(config, probes, next.qps, m);
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
    minRequests: s.minRequests,
    maxProbesPerRate: defaultMaxProbesPerRate,
    confirmBounds: true,
    noisyShare: defaultNoisyShare,
    nearLimitFactor: 1 + percentShare(s.resolution),
    debtRule: true,
    fit: 'isotonic-median',
  };
}
