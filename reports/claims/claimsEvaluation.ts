import { netfilterStacks, stackShare, type Interval, type StackSelector } from '../../harness/attribution/breakdownInterval';
import type { DataPlaneName } from '../../harness/profile/profileSchema';
import type { BreakdownCategory, LoadPoint, StepRecord } from '../../harness/results/resultTypes';
import { isHeadlineStep, isInstrumentedStep } from '../../harness/results/resultTypes';
import { medianInterval } from '../../harness/results/stats/bootstrap';
import { seedFrom, seededRandom } from '../../harness/results/stats/seededRandom';
import { formatSignedUs, formatUs } from '../../harness/results/formatUnits';
import { stepCosts } from '../../harness/results/summarise';
import type { Spread, SummaryGroup, SummaryRecord } from '../../harness/results/summaryTypes';

/*
 * The talk's claims (KubeCon China 2024, "A New Choice for Istio Data Plane", ../shared/seed/), answered by a
 * run (pure: summary and steps in, rows out). Each row: the measured figure with its 95 % interval, a verdict
 * against the claim's band, and one line of why. The verdict rule:
 * - confirmed: the whole interval lies inside the band;
 * - refuted: the whole interval lies outside it;
 * - inconclusive: the interval straddles a band edge, the run cannot measure the figure (value null), or the
 *   figure has no interval (one repetition: a single draw says nothing of its own spread; a share from one
 *   instrumented repetition has only its stack samples' spread, so it is inconclusive too). Connection counts
 *   are exact (the kernel's socket table), so they are held by their range over the repetitions, one or more.
 * The talk gives points or loose words ("~15 %", "almost the same"); the band each row uses is stated in it.
 * Latency claims compare P50 added over the baseline at the lowest connection count of the run (the talk's
 * Fortio runs); the P99 claim uses the highest connection count ("with many connections").
 */

/** One claim of the talk, answered. */
export interface ClaimRow {
  readonly id: string;
  /** The claim in the talk's words (shortened) and the band it is held to. */
  readonly claim: string;
  readonly band: Interval;
  readonly unit: '%' | 'connections';
  /** The measured figure (null when this run cannot measure it) and its 95 % interval (null with one repetition or no figure). */
  readonly value: number | null;
  readonly interval: Interval | null;
  /** The same figure in absolute terms ("+31 µs [24, 40] over a 121 µs baseline P50"), where that helps. */
  readonly absolute: string | null;
  /** The load point and placement measured ("1000 qps c4 cross-node"), null when none was. */
  readonly point: string | null;
  readonly verdict: 'confirmed' | 'refuted' | 'inconclusive';
  readonly why: string;
}

/**
 * Against a band [low, high]: confirmed when the whole interval is inside, refuted when it is outside,
 * inconclusive across an edge, unmeasured (value null) or without an interval (one repetition).
 */
export function claimVerdict(value: number | null, interval: Interval | null, band: Interval): ClaimRow['verdict'] {
  if (value === null || interval === null) return 'inconclusive';
  const lo = interval.low;
  const hi = interval.high;
  if (lo >= band.low && hi <= band.high) return 'confirmed';
  if (hi < band.low || lo > band.high) return 'refuted';
  return 'inconclusive';
}

const pointLabel = (g: Pick<SummaryGroup, 'loadPoint' | 'placement'>): string => `${g.loadPoint.qps === 0 ? 'max' : `${g.loadPoint.qps} qps`} c${g.loadPoint.connections} ${g.placement}`;
const ivText = (iv: Interval | null | undefined, f: (v: number) => string): string => (iv === null || iv === undefined ? '' : ` [${f(iv.low)}, ${f(iv.high)}]`);
/** The why of a figure measured once: no interval, so no verdict. */
// Every interval here needs 2 draws at least: medianInterval and the summary's median differences return null
// below 2 values, and stackShare resamples repetitions. So 2 repetitions are the fewest that can decide.
const oneRepetition = 'one repetition: no interval, so no verdict (run 2 or more repetitions to decide)';
/** The why of a share from one instrumented repetition: its stack samples' spread says nothing of the repetitions'. */
const oneInstrumented = 'one instrumented repetition: no interval across repetitions, so no verdict (run 2 or more instrumented repetitions, probes.instrumentedRepetitions, to decide)';

const side = (v: number, band: Interval): number => (v < band.low ? -1 : v > band.high ? 1 : 0);

/**
 * The fewest decimals (0 … 3) at which every figure, rounded as printed, lies on the same side of the band's
 * edges as the figure itself: −5.2 against −5…+5 prints "−5.2", not "−5", so the verdict shows in the number.
 */
export function verdictDigits(values: ReadonlyArray<number | null | undefined>, band: Interval): number {
  const vs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  for (let d = 0; d < 3; d += 1) {
    if (vs.every((v) => side(Number(v.toFixed(d)), band) === side(v, band))) return d;
  }
  return 3;
}

/** A claim's percentage as printed: "−5.2" (no unit), with the decimals verdictDigits gives. */
export function claimNumber(v: number, digits: number): string {
  return `${v < 0 ? '−' : ''}${Math.abs(v).toFixed(digits)}`;
}
/** "25–35%", or "−5% to +5%" for a band around 0. */
export const bandWords = (b: Interval): string => (b.low < 0 ? `−${Math.abs(b.low)}% to +${b.high}%` : `${b.low}–${b.high}%`);
const interval = (s: Spread | null | undefined): Interval | null => (s?.interval === undefined ? null : { low: s.interval.low, high: s.interval.high });

/** The plain (non-calibration) groups of one data plane, fixed-rate points first, by connections. */
function groupsOf(summary: SummaryRecord, dp: DataPlaneName): SummaryGroup[] {
  return summary.groups.filter((g) => g.dataplane === dp && g.variant === undefined)
    .sort((a, b) => (a.loadPoint.qps === 0 ? 1 : 0) - (b.loadPoint.qps === 0 ? 1 : 0) || a.loadPoint.connections - b.loadPoint.connections || a.loadPoint.payloadBytes - b.loadPoint.payloadBytes);
}

const samePoint = (a: { placement: string; loadPoint: LoadPoint }, b: { placement: string; loadPoint: LoadPoint }): boolean =>
  a.placement === b.placement && a.loadPoint.qps === b.loadPoint.qps && a.loadPoint.connections === b.loadPoint.connections
  && a.loadPoint.payloadBytes === b.loadPoint.payloadBytes && a.loadPoint.keepAlive === b.loadPoint.keepAlive && a.loadPoint.protocol === b.loadPoint.protocol;

function unmeasured(id: string, claim: string, band: Interval, unit: ClaimRow['unit'], why: string): ClaimRow {
  return { id, claim, band, unit, value: null, interval: null, absolute: null, point: null, verdict: 'inconclusive', why };
}

/** "sidecar adds 25–35 %" and its kind: P50 added over baseline in % at the lowest connection count. */
function latencyClaim(summary: SummaryRecord, id: string, dp: DataPlaneName, claim: string, band: Interval): ClaimRow {
  const g = groupsOf(summary, dp)[0];
  const base = g === undefined ? undefined : summary.groups.find((b) => b.dataplane === 'baseline' && b.variant === undefined && samePoint(b, g));
  if (g === undefined || base === undefined || g.latencyAddedP50Pct === null || g.latencyAddedP50Us === null) {
    return unmeasured(id, claim, band, '%', `the run has no ${g === undefined ? dp : 'baseline'} step at a common load point`);
  }
  if (base.latencyP50Us === null) return unmeasured(id, claim, band, '%', `the baseline has no P50 (${base.latencyLeftOut?.reason ?? 'not measured'})`);
  const value = g.latencyAddedP50Pct.median;
  const iv = interval(g.latencyAddedP50Pct);
  const verdict = claimVerdict(value, iv, band);
  const baseUs = base.latencyP50Us.median;
  const addedUs = g.latencyAddedP50Us.median;
  const absolute = `${formatSignedUs(addedUs)}${ivText(interval(g.latencyAddedP50Us), formatSignedUs)} over a ${formatUs(baseUs)} baseline P50`;
  const scale = `this baseline is ${formatUs(baseUs)} over veth pairs on one machine, where the talk's services had a real network under them, so the same added µs is a larger percentage here`;
  const d = verdictDigits([value, iv?.low, iv?.high], band);
  const n = (v: number): string => claimNumber(v, d);
  const why = iv === null ? `${dp} adds ${n(value)}% at P50; ${oneRepetition}; ${scale}`
    : verdict === 'confirmed' ? `${dp} adds ${n(value)}% at P50, inside ${bandWords(band)}; ${scale}`
      : verdict === 'refuted' ? `${dp} adds ${n(value)}% at P50 (the whole interval ${n(iv.low)} to ${n(iv.high)}%), ${value > band.high ? 'above' : 'below'} ${bandWords(band)}; ${scale}`
        : `the interval ${n(iv.low)} to ${n(iv.high)}% straddles the band's edge (${bandWords(band)}): more repetitions would decide; ${scale}`;
  return { id, claim, band, unit: '%', value, interval: iv, absolute, point: pointLabel(g), verdict, why };
}

/** "kernel-native 25–30 % better than ambient at P99 with many connections": 1 − kernel/ambient P99, per repetition. */
function kernelVersusAmbient(summary: SummaryRecord, steps: readonly StepRecord[]): ClaimRow {
  const id = 'kernel-vs-ambient-p99';
  const claim = 'kernel-native (Kmesh) P99 is 25–30 % lower than ambient\'s with many connections';
  const band = { low: 25, high: 30 };
  const amb = groupsOf(summary, 'ambient').filter((g) => g.loadPoint.qps > 0);
  const ker = groupsOf(summary, 'kernel').filter((g) => g.loadPoint.qps > 0);
  const g = [...amb].reverse().find((a) => ker.some((k) => samePoint(a, k)));
  const k = g === undefined ? undefined : ker.find((x) => samePoint(x, g));
  if (g === undefined || k === undefined) return unmeasured(id, claim, band, '%', 'the run has no ambient and kernel steps at a common fixed-rate load point');
  const headline = (dp: DataPlaneName): StepRecord[] => steps.filter((s) => isHeadlineStep(s) && s.dataplane === dp && s.variant === undefined && samePoint(s, g));
  const kernelSteps = headline('kernel');
  const reductions = headline('ambient').flatMap((a) => {
    const kk = kernelSteps.find((x) => x.repetition === a.repetition);
    // A repetition that recorded no request has no P99 (null), on either side.
    const p99 = (s: StepRecord | undefined): number | null => (s === undefined || s.load.latency.count === 0 ? null : s.load.latency.percentilesUs['99'] ?? null);
    const ap = p99(a);
    const kp = p99(kk);
    return kp === null || ap === null || ap <= 0 ? [] : [100 * (1 - kp / ap)];
  });
  if (reductions.length === 0 || g.latencyP99Us === null || k.latencyP99Us === null) return unmeasured(id, claim, band, '%', 'no repetition has both an ambient and a kernel P99');
  const sorted = [...reductions].sort((x, y) => x - y);
  const n = sorted.length;
  const value = n % 2 === 1 ? (sorted[n >> 1] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  const ci = medianInterval(reductions, { random: seededRandom(seedFrom(`claims|${id}|${pointLabel(g)}`)) });
  const iv = ci === null ? null : { low: ci.low, high: ci.high };
  const verdict = claimVerdict(value, iv, band);
  const absolute = `P99 ambient ${formatUs(g.latencyP99Us.median)}, kernel ${formatUs(k.latencyP99Us.median)} (${formatSignedUs(k.latencyP99Us.median - g.latencyP99Us.median)})`;
  const conns = g.loadPoint.connections;
  const d = verdictDigits([value, iv?.low, iv?.high], band);
  const caveat = iv === null ? `${oneRepetition}; ` : verdict === 'inconclusive' ? 'the interval straddles the band\'s edge; ' : '';
  const why = `${caveat}at ${conns} connections${conns < 64 ? ' (fewer than the talk\'s high-concurrency run)' : ''} kernel-native's P99 is ${claimNumber(Math.abs(value), d)}% ${value >= 0 ? 'below' : 'above'} ambient's; here ambient's two node proxies are HAProxy relaying TCP (no HBONE HTTP/2 framing, no ztunnel), so its cost differs from Istio's`;
  return { id, claim, band, unit: '%', value, interval: iv, absolute, point: pointLabel(g), verdict, why };
}

/** The talk's connection counts per data plane (slide "Advantages of Kmesh"; design.md's table). */
export const claimedConnections: Readonly<Record<DataPlaneName, number>> = { baseline: 1, kernel: 1, dual: 2, sidecar: 3, ambient: 3, waypoint: 4 };

function connectionsClaim(summary: SummaryRecord, steps: readonly StepRecord[], dp: DataPlaneName): ClaimRow {
  const n = claimedConnections[dp];
  const id = `connections-${dp}`;
  const claim = `${dp}: ${n} TCP connection${n === 1 ? '' : 's'} on a request's path`;
  const band = { low: n, high: n };
  const g = groupsOf(summary, dp)[0];
  if (g === undefined) return unmeasured(id, claim, band, 'connections', `the run has no ${dp} step`);
  const counts = steps.filter((s) => s.dataplane === dp && s.variant === undefined && samePoint(s, g)).map((s) => s.connectionsOnPath).filter((c): c is number => c !== null);
  if (counts.length === 0) return { ...unmeasured(id, claim, band, 'connections', 'connections on the path were not counted (the platform could not inspect the path)'), point: pointLabel(g) };
  const sorted = [...counts].sort((a, b) => a - b);
  const value = sorted[(sorted.length - 1) >> 1] as number;
  const iv = { low: sorted[0] as number, high: sorted[sorted.length - 1] as number };
  const verdict = claimVerdict(value, iv, band);
  const why = verdict === 'confirmed' ? `counted ${n} on every repetition (${counts.length}), one request on a fresh connection, component pairs with an established socket`
    : `counted ${sorted.join(', ')} over ${counts.length} repetitions where the talk says ${n}`;
  return { id, claim, band, unit: 'connections', value, interval: counts.length > 1 ? iv : null, absolute: null, point: pointLabel(g), verdict, why };
}

/** A share of the sidecar's extra CPU held by some categories, against a band in %. */
function shareClaim(summary: SummaryRecord, steps: readonly StepRecord[], id: string, claim: string, band: Interval, chosen: readonly BreakdownCategory[] | StackSelector, meaning: string): ClaimRow {
  const g = groupsOf(summary, 'sidecar')[0];
  if (g === undefined) return unmeasured(id, claim, band, '%', 'the run has no sidecar step');
  const instrumented = (dp: DataPlaneName): StepRecord[] => steps.filter((s) => isInstrumentedStep(s) && s.dataplane === dp && s.variant === undefined && samePoint(s, g));
  const mine = instrumented('sidecar');
  const bases = instrumented('baseline');
  const sampled = (s: StepRecord): boolean => Object.values(s.probes.foldedStacks).some((f) => f !== '');
  // A pair with a component's CPU per request unmeasured is left out (never counted as 0 µs), as in the breakdown.
  let cpuUnmeasured = 0;
  const pairs = mine.flatMap((s) => {
    const b = bases.find((x) => x.repetition === s.repetition) ?? bases[0];
    if (b === undefined || !sampled(s) || !sampled(b)) return [];
    const step = stepCosts(s);
    const baseline = stepCosts(b);
    if (step === null || baseline === null) { cpuUnmeasured += 1; return []; }
    return [{ step, baseline }];
  });
  if (pairs.length === 0 && cpuUnmeasured > 0) return { ...unmeasured(id, claim, band, '%', `a component's CPU per request was not measured in any of the ${cpuUnmeasured} sampled sidecar and baseline pairs at this point`), point: pointLabel(g) };
  if (pairs.length === 0) return { ...unmeasured(id, claim, band, '%', 'no stack samples for the sidecar and the baseline at this point (probes.sampleHz 0, or the probes were off)'), point: pointLabel(g) };
  // One seed for every share of a point: the rows' extra-CPU intervals are the same draws.
  const select: StackSelector = typeof chosen === 'function' ? chosen : (cat) => chosen.includes(cat);
  const s = stackShare(pairs, select, seededRandom(seedFrom(`claims|sidecar-share|${pointLabel(g)}`)));
  // The extra CPU as the breakdown states it (its point and interval, from the summary): one figure, one
  // interval wherever it is printed. stackShare's own draws decide only the share's interval.
  const extra = g.breakdownUncertainty ?? null;
  const extraUs = extra === null ? s.extraUs : extra.extraCpuUsPerRequest;
  const extraIv = extra === null ? s.extraIntervalUs : extra.extraCpuIntervalUs;
  // From one instrumented repetition the breakdown's interval is its stack samples' Poisson spread only (no
  // repetition to resample): said so, as the share's own figure says, not printed as a 95 % interval.
  const absolute = pairs.length < 2
    ? `${formatUs(s.categoriesUs)} of ${formatUs(extraUs)} extra CPU per request${extraIv === null ? '' : ` (stack-sample interval within the one repetition [${formatUs(extraIv.low)}, ${formatUs(extraIv.high)}])`}`
    : `${formatUs(s.categoriesUs)} of ${formatUs(extraUs)}${ivText(extraIv, formatUs)} extra CPU per request`;
  if (s.share === null) return { id, claim, band, unit: '%', value: null, interval: null, absolute, point: pointLabel(g), verdict: 'inconclusive', why: 'the sidecar\'s extra CPU holds 0 in its 95% interval: no share to take' };
  const value = 100 * s.share;
  const drawn = s.interval === null ? null : { low: 100 * s.interval.low, high: 100 * s.interval.high };
  // With one instrumented repetition stackShare's interval is the stack samples' Poisson spread within it,
  // not the spread between repetitions: a single draw, so no verdict (README: one repetition is inconclusive).
  const once = pairs.length < 2;
  const iv = once ? null : drawn;
  const verdict = once ? 'inconclusive' : claimVerdict(value, iv, band);
  const d = verdictDigits([value, drawn?.low, drawn?.high], band);
  const n = (v: number): string => claimNumber(v, d);
  const figure = once ? `${n(value)}%${drawn === null ? '' : ` (stack-sample interval within the one repetition [${n(drawn.low)} to ${n(drawn.high)}])`}`
    : `${n(value)}%${iv === null ? '' : ` [${n(iv.low)} to ${n(iv.high)}]`}`;
  const caveat = once ? `: ${oneInstrumented}` : iv === null ? `: ${oneRepetition}` : verdict === 'inconclusive' ? ': the interval straddles the band\'s edge' : '';
  const why = `${meaning}: ${figure} of the sidecar's extra CPU (${pairs.length} instrumented repetition${pairs.length === 1 ? '' : 's'}; CPU per request, where the talk splits the mesh's latency), against ${bandWords(band)}${caveat}`;
  return { id, claim, band, unit: '%', value, interval: iv, absolute, point: pointLabel(g), verdict, why };
}

/**
 * Pure: every claim of the talk this project starts from, answered by one run's summary and steps. The
 * order is the talk's: latency, connections, the overhead split, the Kmesh reference split.
 */
export function evaluateClaims(summary: SummaryRecord, steps: readonly StepRecord[]): ClaimRow[] {
  const rows: ClaimRow[] = [
    latencyClaim(summary, 'sidecar-latency', 'sidecar', 'Istio sidecar is 25–35 % slower than the baseline', { low: 25, high: 35 }),
    latencyClaim(summary, 'ambient-latency', 'ambient', 'Istio ambient is ~15 % slower than the baseline (held to 10–20 %)', { low: 10, high: 20 }),
    latencyClaim(summary, 'kernel-latency', 'kernel', 'kernel-native latency is almost the baseline\'s (held to within ±5 %)', { low: -5, high: 5 }),
    kernelVersusAmbient(summary, steps),
    ...(['baseline', 'kernel', 'dual', 'sidecar', 'ambient', 'waypoint'] as const).map((dp) => connectionsClaim(summary, steps, dp)),
    shareClaim(summary, steps, 'orchestration-share', 'traffic orchestration is only ~10 % of the sidecar\'s overhead (held to 5–15 %)', { low: 5, high: 15 }, ['proxy-userspace'],
      'orchestration read as the proxies\' own user-space work (proxy-userspace)'),
    shareClaim(summary, steps, 'copy-connect-switch-share', 'most of the rest is data copying, the extra connections and context switching (held to ≥ 50 %)', { low: 50, high: 100 }, ['copying', 'connections', 'scheduling'],
      'copying + connections + scheduling (network-stack and syscalls are counted apart)'),
    shareClaim(summary, steps, 'kmesh-split-context-switches', 'Kmesh reference split of the sidecar path: context switches 25 % (held to 20–30 %)', { low: 20, high: 30 }, ['scheduling'], 'scheduling'),
    shareClaim(summary, steps, 'kmesh-split-tcpip', 'Kmesh reference split: TCP/IP stack 40 % (held to 35–45 %)', { low: 35, high: 45 }, (cat, frames) => cat === 'network-stack' && !netfilterStacks(cat, frames),
      'network-stack stacks without a netfilter frame'),
    shareClaim(summary, steps, 'kmesh-split-iptables', 'Kmesh reference split: iptables 10 % (held to 5–15 %)', { low: 5, high: 15 }, netfilterStacks,
      'network-stack stacks with a netfilter frame (nf_hook_slow, ipt_do_table, nf_nat_*, nf_conntrack_*: a frame search, the rule table counts them as network-stack)'),
    unmeasured('kmesh-split-downstream-hijack', 'Kmesh reference split: downstream hijack 15 %', { low: 10, high: 20 }, '%',
      'not measured: the redirection of the client\'s traffic into its sidecar is iptables REDIRECT plus the client proxy\'s accept path, spread over network-stack, connections and proxy-userspace; no category isolates it'),
    shareClaim(summary, steps, 'kmesh-split-governance', 'Kmesh reference split: governance 10 % (held to 5–15 %)', { low: 5, high: 15 }, ['proxy-userspace'],
      'governance read as the proxies\' own user-space work (proxy-userspace; HAProxy here, not Envoy with Istio\'s filters)'),
  ];
  return rows;
}
