import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { sampleStandardDeviation } from 'simple-statistics';
import type { BreakdownCategory } from '../results/resultTypes';
import { breakdownCategories } from '../results/resultTypes';
import { explainedShareOf, toBreakdownCategory, type StepCosts } from './overheadBreakdown';
import { classifyFolded, classifyFoldedStacks, type StackCategory } from './stackClassifier';

/*
 * Uncertainty of the overhead breakdown by bootstrap (Efron & Tibshirani, "An Introduction to the
 * Bootstrap", 1993, percentile intervals). Two sources of noise are resampled in each iteration:
 * - the repetitions: R (data plane, baseline) pairs drawn with replacement from the R measured;
 * - the stack samples: each component's count in each category redrawn as Poisson(count), the Poisson
 *   bootstrap (Hanley & MacGibbon 2006; Chamandy et al. 2012), so a category's µs per request
 *   (CPU per request × its share of samples) and the component's total carry the sampling noise of
 *   cpu-clock samples. With one repetition this is the only noise left, and it is what stops a difference
 *   of a few µs between two single runs from being read as a cost.
 * The explained share is given only when the extra CPU's own interval excludes 0; otherwise there is
 * nothing to explain and the share is "n/a (within noise)".
 *
 * The simultaneous intervals (the calibration verdict's "every other category within its interval") are not
 * the bootstrap's alone when there are 2 or more repetitions. A percentile bootstrap over R repetitions is too
 * narrow at small R (Hesterberg, "What teachers should know about the bootstrap", The American Statistician
 * 69(4):371–386, 2015: "the common bootstrap percentile interval badly under-covers in small samples"; it behaves
 * like an interval with the plug-in standard deviation, divisor R not R − 1, and z in place of t, his "narrowness
 * bias"): over R = 2 it draws only {a,a}, {a,b}, {b,b}, so its 99.44 % interval is about
 * [min, max] of the two repetitions, and the true mean lies outside [min, max] of 2 draws half the time. So each
 * category's simultaneous interval is also taken as Student's t interval over the R per-repetition paired
 * differences (variant split minus baseline split of the same repetition, each already carrying its own
 * stack-sampling noise): mean ± t(R − 1, 1 − α/2) · s/√R, α = 1 − familyConfidence (the paired t interval:
 * "Student", "The probable error of a mean", Biometrika 6(1), 1908), and the verdict reads the hull of
 * that and the bootstrap one, so it never claims less than the stack-sampling noise alone. With 1 repetition
 * there is no spread between repetitions to measure and the bootstrap (stack samples only) stands, as `method`
 * says. The per-category 95 % intervals and the extra CPU's stay percentile bootstrap (issue 14 asks for
 * resampling there; the tables print them beside the point figures).
 */

/** A two-sided interval, same unit as its figure. */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

/** The breakdown of one data plane at one load point with 95 % intervals. */
export interface BreakdownUncertainty {
  readonly confidence: number;
  readonly iterations: number;
  readonly repetitions: number;
  /** The mesh's extra CPU µs per request (instrumentation left out), mean over repetitions. */
  readonly extraCpuUsPerRequest: number;
  readonly extraCpuIntervalUs: Interval;
  /** Extra µs per request by category, mean over repetitions, and its interval. */
  readonly byCategoryUs: Readonly<Record<BreakdownCategory, number>>;
  readonly byCategoryIntervalUs: Readonly<Record<BreakdownCategory, Interval>>;
  /**
   * Simultaneous intervals over every category but instrumentation (familyCategories of them), at
   * familyConfidence each (Bonferroni: 1 − (1 − confidence) ÷ familyCategories), so that all of them hold their
   * true values together with probability ≥ `confidence`. For "did any category move?" (the calibration verdict):
   * judged on the per-category 95 % intervals, a control that moves nothing fails that question by chance in
   * 1 − 0.95⁸ ≈ 34 % of runs. With 2 or more repetitions each is the hull of the percentile bootstrap's interval and
   * Student's t interval over the per-repetition differences (familyMethod 'student-t+bootstrap', see the file's
   * comment: the bootstrap alone is far too narrow over a few repetitions); with 1, the bootstrap's ('bootstrap').
   * Absent in summaries written before they were added; familyMethod absent in those written before the t interval
   * (bootstrap alone then).
   */
  readonly familyConfidence?: number;
  readonly familyCategories?: number;
  readonly familyMethod?: 'student-t+bootstrap' | 'bootstrap';
  readonly byCategoryFamilyIntervalUs?: Readonly<Record<BreakdownCategory, Interval>>;
  /** In 0–1 (see explainedShareOf); null when the extra CPU's interval holds 0: "n/a (within noise)". */
  readonly explainedShare: number | null;
  readonly explainedShareInterval: Interval | null;
  readonly method: string;
}

/** How many categories the simultaneous intervals cover: all but instrumentation (meshbench's own). */
export const simultaneousCategories = breakdownCategories.length - 1;

/** Each simultaneous interval's confidence for `confidence` over them all (Bonferroni): 0.99444 for 0.95 over 9. */
export const simultaneousConfidence = (confidence: number): number => 1 - (1 - confidence) / simultaneousCategories;

/** One data plane step with the baseline step it is compared with (the same repetition where there is one). */
export interface BreakdownPair {
  readonly step: StepCosts;
  readonly baseline: StepCosts;
}

interface ComponentCounts {
  readonly cpuUsPerRequest: number;
  readonly samples: number;
  readonly counts: ReadonlyArray<readonly [BreakdownCategory, number]>;
}

function componentCounts(costs: StepCosts): ComponentCounts[] {
  return Object.values(costs).map((c) => {
    const byCat = new Map<BreakdownCategory, number>();
    for (const [cat, n] of Object.entries(classifyFolded(c.foldedStacks)) as Array<[StackCategory, number]>) {
      if (n === 0) continue;
      const bc = toBreakdownCategory(cat, c.role);
      byCat.set(bc, (byCat.get(bc) ?? 0) + n);
    }
    const samples = [...byCat.values()].reduce((a, b) => a + b, 0);
    return { cpuUsPerRequest: c.cpuUsPerRequest, samples, counts: [...byCat] };
  });
}

/** Knuth's multiplication method below 30, a rounded normal (Box–Muller) above, where it is within 1 % of Poisson's quantiles. */
export function poisson(lambda: number, random: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = random();
    while (p > limit) {
      k += 1;
      p *= random();
    }
    return k;
  }
  const u1 = Math.max(random(), Number.MIN_VALUE);
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
}

/** Adds one step's CPU per request by category into `into`, with `sign` (+1 data plane, -1 baseline). */
function addSplit(into: Record<BreakdownCategory, number>, comps: readonly ComponentCounts[], sign: number, random: (() => number) | null): void {
  for (const c of comps) {
    if (c.samples === 0) {
      into.unexplained += sign * c.cpuUsPerRequest;
      continue;
    }
    const perSample = c.cpuUsPerRequest / c.samples;
    for (const [cat, n] of c.counts) into[cat] += sign * perSample * (random === null ? n : poisson(n, random));
  }
}

const zero = (): Record<BreakdownCategory, number> => Object.fromEntries(breakdownCategories.map((c) => [c, 0])) as Record<BreakdownCategory, number>;

const meshExtra = (byCat: Readonly<Record<BreakdownCategory, number>>): number =>
  breakdownCategories.reduce((a, c) => (c === 'instrumentation' ? a : a + byCat[c]), 0);

/** Type-7 quantile (linear between order statistics: R's default, numpy's "linear") of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (h - lo) * (b - a);
}

function interval(values: number[], confidence: number): Interval {
  values.sort((x, y) => x - y);
  const tail = (1 - confidence) / 2;
  return { low: quantileSorted(values, tail), high: quantileSorted(values, 1 - tail) };
}

/**
 * Student's t interval for the mean of `values` (2 or more, any unit; the interval is in the same unit):
 * mean ± t(n − 1, 1 − (1 − confidence)/2) · s/√n, s the sample standard deviation (divisor n − 1). The t quantile
 * is stdlib's (@stdlib/stats-base-dists-t-quantile, the inverse regularised incomplete beta function). At
 * confidence 0.99444 (95 % over 9 categories, Bonferroni) the multiplier is 114.6 with n = 2, 7.18 with n = 4,
 * 5.44 with n = 5. Throws RangeError with fewer than 2 values or a confidence outside (0, 1).
 */
export function studentTInterval(values: readonly number[], confidence: number): Interval {
  if (values.length < 2) throw new RangeError(`studentTInterval needs at least 2 values (got ${values.length})`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`studentTInterval: confidence must lie in (0, 1) (got ${confidence})`);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const half = tQuantile(1 - (1 - confidence) / 2, n - 1) * sampleStandardDeviation([...values]) / Math.sqrt(n);
  return { low: mean - half, high: mean + half };
}

const hull = (a: Interval, b: Interval): Interval => ({ low: Math.min(a.low, b.low), high: Math.max(a.high, b.high) });

/**
 * The breakdown over `pairs` (one per repetition) with bootstrap intervals. `random` is the injected source
 * of uniform [0, 1) numbers (seeded for reproducible summaries); `iterations` bootstrap resamples.
 * Throws RangeError when `pairs` is empty.
 */
export function breakdownUncertainty(pairs: readonly BreakdownPair[], random: () => number, iterations = 4000, confidence = 0.95): BreakdownUncertainty {
  if (pairs.length === 0) throw new RangeError('breakdownUncertainty needs at least one (data plane, baseline) pair');
  const prepared = pairs.map((p) => ({ step: componentCounts(p.step), baseline: componentCounts(p.baseline) }));
  const r = prepared.length;
  const point = zero();
  const perRepetition: Array<Record<BreakdownCategory, number>> = [];
  for (const p of prepared) {
    const d = zero();
    addSplit(d, p.step, 1, null);
    addSplit(d, p.baseline, -1, null);
    perRepetition.push(d);
    for (const c of breakdownCategories) point[c] += d[c] / r;
  }
  const extraDraws: number[] = [];
  const shareDraws: number[] = [];
  const catDraws = Object.fromEntries(breakdownCategories.map((c) => [c, [] as number[]])) as Record<BreakdownCategory, number[]>;
  for (let i = 0; i < iterations; i += 1) {
    const acc = zero();
    for (let j = 0; j < r; j += 1) {
      const p = prepared[r === 1 ? 0 : Math.min(r - 1, Math.floor(random() * r))] as (typeof prepared)[number];
      addSplit(acc, p.step, 1 / r, random);
      addSplit(acc, p.baseline, -1 / r, random);
    }
    for (const c of breakdownCategories) catDraws[c].push(acc[c]);
    extraDraws.push(meshExtra(acc));
    shareDraws.push(explainedShareOf(acc));
  }
  const extraInterval = interval(extraDraws, confidence);
  const withinNoise = extraInterval.low <= 0 && extraInterval.high >= 0;
  const byCategoryIntervalUs = Object.fromEntries(breakdownCategories.map((c) => [c, interval(catDraws[c], confidence)])) as Record<BreakdownCategory, Interval>;
  const familyCategories = simultaneousCategories;
  const familyConfidence = simultaneousConfidence(confidence);
  // The bootstrap's family interval alone is too narrow over a few repetitions (see the file's comment): with 2 or
  // more, the hull of it and Student's t over the per-repetition differences.
  const familyMethod = r >= 2 ? 'student-t+bootstrap' as const : 'bootstrap' as const;
  const byCategoryFamilyIntervalUs = Object.fromEntries(breakdownCategories.map((c) => {
    const boot = interval(catDraws[c], familyConfidence);
    return [c, r >= 2 ? hull(boot, studentTInterval(perRepetition.map((d) => d[c]), familyConfidence)) : boot];
  })) as Record<BreakdownCategory, Interval>;
  return {
    confidence,
    iterations,
    repetitions: r,
    extraCpuUsPerRequest: meshExtra(point),
    extraCpuIntervalUs: extraInterval,
    byCategoryUs: point,
    byCategoryIntervalUs,
    familyConfidence,
    familyCategories,
    familyMethod,
    byCategoryFamilyIntervalUs,
    explainedShare: withinNoise ? null : explainedShareOf(point),
    explainedShareInterval: withinNoise ? null : interval(shareDraws, confidence),
    method: `${Math.round(confidence * 100)} % percentile bootstrap, ${iterations} resamples of the ${r} repetition${r === 1 ? '' : 's'} and of the stack samples (Poisson(1) weights); seeded; the calibration verdict reads simultaneous ones (Bonferroni over the ${familyCategories} categories: ${(100 * familyConfidence).toFixed(2)} % each), ${r >= 2
      ? `each the hull of the bootstrap's and Student's t over the ${r} per-repetition differences (t with ${r - 1} degree${r === 2 ? '' : 's'} of freedom: ${tQuantile(1 - (1 - familyConfidence) / 2, r - 1).toFixed(2)} standard errors)`
      : "the bootstrap's over the stack samples only (1 repetition: no spread between repetitions measured)"}`,
  };
}

/** The seeded uniform generator every resampling statistic draws from (one copy, in harness/results/stats). */
export { seededRandom } from '../results/stats/seededRandom';

/** A share of the mesh's extra CPU that some stacks hold (chosen by category, or by their frames), with its interval. */
export interface CategoryShare {
  /** The categories chosen (empty when a frame selector chose the stacks). */
  readonly categories: readonly BreakdownCategory[];
  /** Σ chosen / extra (mesh), in 0–1 (may leave 0–1 when a category fell or rose past the extra); null when the extra's interval holds 0. */
  readonly share: number | null;
  readonly interval: Interval | null;
  /** Σ chosen and the extra, µs per request (mean over repetitions). */
  readonly categoriesUs: number;
  readonly extraUs: number;
  readonly extraIntervalUs: Interval;
}

/** Picks stacks for a share: by their breakdown category and their frames (root first, as folded). */
export type StackSelector = (category: BreakdownCategory, framesRootFirst: readonly string[]) => boolean;

interface SelectedCounts {
  readonly cpuUsPerRequest: number;
  readonly samples: number;
  /** [category, chosen, samples] */
  readonly counts: ReadonlyArray<readonly [BreakdownCategory, boolean, number]>;
}

function selectedCounts(costs: StepCosts, select: StackSelector): SelectedCounts[] {
  return Object.values(costs).map((c) => {
    const byKey = new Map<string, [BreakdownCategory, boolean, number]>();
    for (const p of classifyFoldedStacks(c.foldedStacks)) {
      const cat = toBreakdownCategory(p.category, c.role);
      const chosen = select(cat, p.frames);
      const key = `${cat}|${chosen}`;
      const e = byKey.get(key);
      if (e === undefined) byKey.set(key, [cat, chosen, p.count]);
      else e[2] += p.count;
    }
    const counts = [...byKey.values()];
    return { cpuUsPerRequest: c.cpuUsPerRequest, samples: counts.reduce((a, x) => a + x[2], 0), counts };
  });
}

/** Adds one step's split into `acc` (by category) and returns the chosen µs, with `sign`; Poisson-redrawn counts when `random` is given. */
function addSelected(acc: Record<BreakdownCategory, number>, comps: readonly SelectedCounts[], sign: number, random: (() => number) | null): number {
  let chosenUs = 0;
  for (const c of comps) {
    if (c.samples === 0) {
      acc.unexplained += sign * c.cpuUsPerRequest;
      continue;
    }
    const perSample = c.cpuUsPerRequest / c.samples;
    for (const [cat, chosen, n] of c.counts) {
      const v = sign * perSample * (random === null ? n : poisson(n, random));
      acc[cat] += v;
      if (chosen) chosenUs += v;
    }
  }
  return chosenUs;
}

/**
 * The share of the mesh's extra CPU per request (instrumentation left out) that the stacks `select` picks hold
 * together, with a percentile-bootstrap interval drawn as breakdownUncertainty draws (repetitions with
 * replacement, stack samples as Poisson counts). Used to hold the breakdown to claims such as "orchestration is
 * ~10 % of the overhead". Throws RangeError when `pairs` is empty.
 */
export function stackShare(pairs: readonly BreakdownPair[], select: StackSelector, random: () => number, iterations = 1000, confidence = 0.95): Omit<CategoryShare, 'categories'> {
  if (pairs.length === 0) throw new RangeError('stackShare needs at least one (data plane, baseline) pair');
  const prepared = pairs.map((p) => ({ step: selectedCounts(p.step, select), baseline: selectedCounts(p.baseline, select) }));
  const r = prepared.length;
  const point = zero();
  let pointChosen = 0;
  for (const p of prepared) {
    pointChosen += addSelected(point, p.step, 1 / r, null);
    pointChosen += addSelected(point, p.baseline, -1 / r, null);
  }
  const extraDraws: number[] = [];
  const shareDraws: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const acc = zero();
    let chosen = 0;
    for (let j = 0; j < r; j += 1) {
      const p = prepared[r === 1 ? 0 : Math.min(r - 1, Math.floor(random() * r))] as (typeof prepared)[number];
      chosen += addSelected(acc, p.step, 1 / r, random);
      chosen += addSelected(acc, p.baseline, -1 / r, random);
    }
    const extra = meshExtra(acc);
    extraDraws.push(extra);
    if (extra !== 0) shareDraws.push(chosen / extra);
  }
  const extraIntervalUs = interval(extraDraws, confidence);
  const withinNoise = extraIntervalUs.low <= 0 && extraIntervalUs.high >= 0;
  const extraUs = meshExtra(point);
  return {
    share: withinNoise || extraUs === 0 ? null : pointChosen / extraUs,
    interval: withinNoise || shareDraws.length === 0 ? null : interval(shareDraws, confidence),
    categoriesUs: pointChosen,
    extraUs,
    extraIntervalUs,
  };
}

/** stackShare of whole categories (e.g. proxy-userspace for "orchestration"). */
export function categoryShare(pairs: readonly BreakdownPair[], categories: readonly BreakdownCategory[], random: () => number, iterations = 1000, confidence = 0.95): CategoryShare {
  return { categories, ...stackShare(pairs, (cat) => categories.includes(cat), random, iterations, confidence) };
}

/**
 * Netfilter's frames (iptables and nftables rule evaluation, NAT, conntrack), kernel frames as folded
 * (`_[k]`). The network-stack rule counts them with TCP/IP; a frame search like a flame graph's tells them apart.
 */
export const netfilterFrame = /^(nf_\w+|__nf_\w+|ipt_do_table|ip6t_do_table|nft_\w+|iptable_\w+|ipv4_conntrack_\w+)_\[k\]$/;

/** Network-stack stacks with a netfilter frame: iptables' share of the network stack. */
export const netfilterStacks: StackSelector = (cat, frames) => cat === 'network-stack' && frames.some((f) => netfilterFrame.test(f));
