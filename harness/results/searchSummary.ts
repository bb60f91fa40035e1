import { formatShare, judgeNext, searchResult, type ProbeMeasurement, type RateSearchConfig, type RateSearchResult, type SearchProbe } from '../runner/rateSearch';
import type { DataPlaneName } from '../profile/profileSchema';
import type { LoadPoint, StepRecord } from './resultTypes';
import type { SummaryRecord } from './summaryTypes';
import { formatUs } from './formatUnits';

/*
 * The rate searches of a run (`load.search`) as the summary holds them, rebuilt from the probe steps
 * alone: each probe step records its number and the search's configuration, and the search is a pure
 * function of its probes (rateSearch.ts), so `meshbench report` on a results folder gives the same answer
 * the run printed.
 */

/** One data plane × placement's search: the answer, the interval it is known to, and every probe. */
export interface RateSearchSummary extends RateSearchResult {
  readonly dataplane: DataPlaneName;
  readonly placement: 'same-node' | 'cross-node';
  /** The probes' load point apart from the rate (qps is the first rate tried). */
  readonly loadPoint: LoadPoint;
  readonly config: RateSearchConfig;
}

/** Components whose CPU is their own (the eBPF data plane's run time is already inside its hosts'). */
function cpuUsPerRequest(step: StepRecord): number | null {
  const own = step.components.filter((c) => c.role !== 'dataplane');
  const values = own.map((c) => step.resources[c.name]?.cpuUsPerRequest ?? null);
  if (own.length === 0 || values.some((v) => v === null)) return null;
  return values.reduce((a: number, v) => a + (v as number), 0);
}

/**
 * What one probe step measured, as the search judges it: P50/P99/max of the CO-corrected latency of every
 * request of the window, errors by fortio's rule (no response or a status outside 2xx: the errorLatency
 * count) over all requests, and the CPU per request of every component (null when a component's CPU was
 * not measured).
 */
export function probeMeasurement(step: StepRecord): ProbeMeasurement {
  const l = step.load;
  return {
    achievedQps: l.actualQps,
    // A probe without a request has no latency (null, not 0 µs) and fails as such ('no request recorded').
    p50Us: l.latency.count > 0 ? (l.latency.percentilesUs['50'] ?? null) : null,
    p99Us: l.latency.count > 0 ? (l.latency.percentilesUs['99'] ?? null) : null,
    maxUs: l.latency.count > 0 ? (l.latency.maxUs ?? null) : null,
    requests: l.latency.count,
    errors: l.errorLatency.count,
    cpuUsPerRequest: cpuUsPerRequest(step),
    stepId: step.id,
    noisy: (step.noise?.flags.length ?? 0) > 0,
    ...(step.noise === undefined || step.noise === null ? {} : { otherShare: step.noise.outsideShare, stolen: step.noise.flags.some((f) => f.startsWith('CPU steal')) }),
    ...(step.search?.quietWait === undefined ? {} : { quietWait: step.search.quietWait }),
  };
}

/** Pure: every search of a run's steps, in the order the searches ran. */
export function rateSearches(steps: readonly StepRecord[]): RateSearchSummary[] {
  const bySearch = new Map<string, StepRecord[]>();
  for (const s of steps) {
    if (s.search === undefined) continue;
    const p = s.loadPoint;
    const k = `${s.dataplane}|${s.placement}|${p.protocol}|${p.connections}|${p.payloadBytes}|${p.keepAlive}`;
    bySearch.set(k, [...(bySearch.get(k) ?? []), s]);
  }
  return [...bySearch.values()].map((group) => {
    const sorted = [...group].sort((a, b) => (a.search?.probe ?? 0) - (b.search?.probe ?? 0));
    const first = sorted[0] as StepRecord;
    const config = (first.search as NonNullable<StepRecord['search']>).config;
    const probes: SearchProbe[] = [];
    for (const s of sorted) probes.push({ ...judgeNext(config, probes, s.loadPoint.qps, probeMeasurement(s)), probe: s.search?.probe ?? 0 });
    return { dataplane: first.dataplane, placement: first.placement, loadPoint: { ...first.loadPoint, qps: config.fromQps }, config, ...searchResult(config, probes) };
  });
}

/** Pure: the summary with `searches` when the run has search probes; unchanged otherwise. */
export function withSearches(summary: SummaryRecord, steps: readonly StepRecord[]): SummaryRecord {
  const searches = rateSearches(steps);
  return searches.length === 0 ? summary : { ...summary, searches };
}

/** The objective as text: "P99 ≤ 5.00 ms, errors ≤ 0.10 %". */
export function objectiveText(c: RateSearchConfig): string {
  const parts: string[] = [];
  if (c.objective.p99Us !== null) parts.push(`P99 ≤ ${formatUs(c.objective.p99Us)}`);
  if (c.objective.errorShare !== null) parts.push(`errors ≤ ${formatShare(c.objective.errorShare)}`);
  return parts.join(', ');
}

/**
 * The answer in one phrase: "13500 qps (known within [13500, 14000) qps; converged in 12 probes)"; under
 * the fit, its crossing first: "13720 qps where the fitted P99 meets the objective (known within …)".
 */
export function searchLine(r: RateSearchResult): string {
  const n = `${r.probes.length} probe${r.probes.length === 1 ? '' : 's'}`;
  const how = r.outcome === 'converged' ? `converged in ${n}${r.confirmed ? ', both ends confirmed' : ''}` : r.outcome === 'budget' ? `probe budget reached (${n})${r.confirmed ? ', both ends confirmed' : ', an end not confirmed'}`
    : r.outcome === 'reached-to' ? `passed at the highest rate tried, ${n}` : r.outcome === 'below-from' ? `failed at the first rate, ${n}` : `interrupted after ${n}`;
  if (r.maxQps === null) return `none: below ${r.knownWithin.high ?? '?'} qps (${how})`;
  if (r.outcome === 'reached-to') return `≥ ${r.maxQps} qps (${how})`;
  if (r.estimateQps !== undefined && r.estimateQps !== null) return `${r.estimateQps} qps where the fitted P99 meets the objective (known within [${r.knownWithin.low}, ${r.knownWithin.high ?? '∞'}) qps; ${how})`;
  return `${r.maxQps} qps (known within [${r.knownWithin.low}, ${r.knownWithin.high ?? '∞'}) qps; ${how})`;
}

/** One line per data plane × placement for the run's closing summary. */
export function searchSummaryLines(searches: readonly RateSearchSummary[] | undefined): string[] {
  if (searches === undefined || searches.length === 0) return [];
  const first = searches[0] as RateSearchSummary;
  const lines = ['', `max rate meeting ${objectiveText(first.config)} (open loop, c${first.loadPoint.connections}, ${first.config.fromQps}–${first.config.toQps} qps, at most ${first.config.maxProbes} probes)`];
  for (const s of searches) lines.push(`  ${s.dataplane} ${s.placement}: ${searchLine(s)}`);
  return lines;
}
