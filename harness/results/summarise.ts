import { overheadBreakdown, probedRequests, stepCosts } from '../attribution/overheadBreakdown';
import { breakdownUncertainty } from '../attribution/breakdownInterval';
import { seededRandom, seedFrom, type RandomSource } from './stats/seededRandom';
import type { OverheadBreakdown, StepRecord } from './resultTypes';
import { isHeadlineStep, isInstrumentedStep, resultsSchemaVersion } from './resultTypes';
import type { LeftOut, Perturbation, Spread, SummaryGroup, SummaryRecord } from './summaryTypes';
import { withIntervals } from './summaryIntervals';
import { calibrationVerdicts } from '../attribution/calibrationVerdict';

/** A step's costs per component (moved to the attribution room, where the calibration verdict reads them too). */
export { stepCosts };

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { values: [], min: 0, median: 0, max: 0 };
  const median = n % 2 === 1 ? (s[n >> 1] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  return { values: [...values], min: s[0] as number, median, max: s[n - 1] as number };
}

export function groupKey(step: Pick<StepRecord, 'dataplane' | 'placement' | 'loadPoint' | 'variant'>): string {
  const p = step.loadPoint;
  return `${step.dataplane}|${step.placement}|${p.protocol}|${p.qps}|${p.connections}|${p.payloadBytes}|${p.keepAlive}${step.variant === undefined ? '' : `|${step.variant}`}`;
}

/** The key of the plain baseline group at a step's point: what every data plane and calibration variant is compared with. */
function pointKey(step: Pick<StepRecord, 'placement' | 'loadPoint'>): string {
  return groupKey({ dataplane: 'baseline', placement: step.placement, loadPoint: step.loadPoint });
}

/** The plain baseline (not a calibration variant of it): the reference, with no breakdown of its own. */
const isReference = (s: Pick<StepRecord, 'dataplane' | 'variant'>): boolean => s.dataplane === 'baseline' && s.variant === undefined;

/** Components whose CPU is their own (the eBPF data plane's run time is already inside its hosts' CPU). */
const ownCpu = (role: string): boolean => role !== 'dataplane';

/** A step's latency percentile (µs); null when it recorded no request (results before null figures stored 0 with count 0). */
const pct = (p: string) => (s: StepRecord): number | null => (s.load.latency.count > 0 ? (s.load.latency.percentilesUs[p] ?? null) : null);
/** Why a step has no latency percentiles: the reason its histogram stored (results before that rule stored none). */
const latencyGap = (s: StepRecord): string => s.load.latency.unavailableReason ?? 'no request completed';

/** The components' own CPU per request added up; null when any of them was not measured (it must not count as 0). */
const totalCpu = (s: StepRecord): number | null => {
  const own = s.components.filter((c) => ownCpu(c.role)).map((c) => s.resources[c.name]?.cpuUsPerRequest ?? null);
  return own.length === 0 || own.some((v) => v === null) ? null : own.reduce((a: number, v) => a + (v as number), 0);
};
/** Why totalCpu is null for a step: no request to divide by, or which components have no CPU figure. */
const cpuGap = (s: StepRecord): string => {
  if (s.load.requestsCompleted === 0) return 'no request completed';
  const missing = s.components.filter((c) => ownCpu(c.role) && (s.resources[c.name]?.cpuUsPerRequest ?? null) === null).map((c) => c.name);
  return missing.length === 0 ? 'the step lists no components' : `CPU of ${missing.join(', ')} not measured`;
};

/** The spread of the figures a group's steps have, leaving out the steps without one; null when none has one. */
function measuredSpread(group: readonly StepRecord[], figure: (s: StepRecord) => number | null): Spread | null {
  const values = group.map(figure).filter((v): v is number => v !== null);
  return values.length === 0 ? null : spread(values);
}

/** How many repetitions a figure left out (figure null) and their reasons; undefined when none. */
function leftOutOf(group: readonly StepRecord[], figure: (s: StepRecord) => number | null, why: (s: StepRecord) => string): LeftOut | undefined {
  const gaps = group.filter((s) => figure(s) === null);
  return gaps.length === 0 ? undefined : { repetitions: gaps.length, reason: [...new Set(gaps.map(why))].join('; ') };
}

/** The item with the median key among those with a key (any item when none has one). */
function medianBy<T>(items: readonly T[], key: (t: T) => number | null): T | undefined {
  const keyed = items.filter((t) => key(t) !== null);
  const sorted = [...(keyed.length > 0 ? keyed : items)].sort((a, b) => (key(a) ?? 0) - (key(b) ?? 0));
  return sorted[(sorted.length - 1) >> 1];
}

/** The bootstrap's seed: fixed, so a results folder always summarises to the same intervals. */
export const breakdownBootstrapSeed = 20241106;

/**
 * The breakdown bootstrap's random source for one group: seeded from breakdownBootstrapSeed and the group's
 * key (seedFrom), so a group's intervals depend on its own steps only, not on which groups were summarised
 * before it (one shared stream made the sidecar's interval move when a kernel group was added ahead of it).
 */
export function breakdownRandomFor(groupKey: string): RandomSource {
  return seededRandom(seedFrom(`${breakdownBootstrapSeed}|breakdown|${groupKey}`));
}

/**
 * Pure: the summary of a run's steps, grouped by data plane × placement × load point, spread over
 * repetitions, headline figures with 95 % intervals (summaryIntervals.ts). Headline figures come from clean
 * (or inline) repetitions; the breakdown and the eBPF program time from the instrumented ones where the run
 * has them (see probes.mode). `randomFor` gives each group's breakdown bootstrap its random source, by the
 * group's key (default breakdownRandomFor: seeded per group, so same steps, same intervals, whatever else is in the run).
 */
export function summarise(runId: string, status: SummaryRecord['status'], allSteps: readonly StepRecord[], skipped: SummaryRecord['dataplanesSkipped'] = [], randomFor: (groupKey: string) => RandomSource = breakdownRandomFor): SummaryRecord {
  const steps = allSteps.filter(isHeadlineStep);
  const instrumentedByGroup = new Map<string, StepRecord[]>();
  for (const s of allSteps) if (isInstrumentedStep(s)) instrumentedByGroup.set(groupKey(s), [...(instrumentedByGroup.get(groupKey(s)) ?? []), s]);
  const groups = new Map<string, StepRecord[]>();
  for (const s of steps) {
    const k = groupKey(s);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const baselineByPoint = new Map<string, StepRecord[]>();
  for (const s of steps) if (isReference(s)) baselineByPoint.set(pointKey(s), [...(baselineByPoint.get(pointKey(s)) ?? []), s]);

  const out: SummaryGroup[] = [];
  for (const [key, group] of groups) {
    const first = group[0] as StepRecord;
    const baselines = isReference(first) ? [] : (baselineByPoint.get(pointKey(first)) ?? []);
    // Pair each repetition with the baseline of the same repetition (interleaved runs), else the median baseline.
    const pairs = baselines.length === 0 ? [] : group.map((s) => [s, baselines.find((b) => b.repetition === s.repetition) ?? (medianBy(baselines, pct('50')) as StepRecord)] as const);
    // The relative figure is each repetition's difference over the median baseline (one constant), so its median
    // and interval are the µs ones scaled and the two never disagree in sign; a ratio per repetition did (-472 µs
    // beside +42 % when one repetition's baseline was 4× the other's).
    // A pair where either side recorded no request has no difference: it is left out, not counted as 0 µs.
    const added = (p: string, relative: boolean): Spread | null => {
      const measured = pairs.flatMap(([s, b]) => { const v = pct(p)(s); const w = pct(p)(b); return v === null || w === null ? [] : [[v, w] as const]; });
      if (measured.length === 0) return null;
      const base = relative ? spread(measured.map(([, w]) => w)).median : 1;
      return spread(measured.map(([v, w]) => {
        const d = v - w;
        return relative ? (base > 0 ? (100 * d) / base : 0) : d;
      }));
    };
    // A pair without both CPU figures has no extra CPU to break down (0 would read as a free data plane).
    // stepCosts is null for the same steps (a component's CPU not measured), so every pair left has both.
    const breakdownPairs = isReference(first) ? [] : attributionPairs(group, first, pairs, instrumentedByGroup);
    const attributed = breakdownPairs.filter(([s, b]) => totalCpu(s) !== null && totalCpu(b) !== null)
      .flatMap(([s, b]) => { const x = stepCosts(s); const y = stepCosts(b); return x === null || y === null ? [] : [{ s, b, step: x, baseline: y }]; });
    // Said, not silent: a breakdown missing from the summary with no line why read as "no probes".
    const unattributed = breakdownPairs.filter(([s, b]) => !attributed.some((a) => a.s === s && a.b === b));
    const breakdownLeftOut: LeftOut | undefined = unattributed.length === 0 ? undefined : {
      repetitions: unattributed.length,
      reason: [...new Set(unattributed.flatMap(([s, b]) => [...(totalCpu(s) === null || stepCosts(s) === null ? [cpuGap(s)] : []), ...(totalCpu(b) === null || stepCosts(b) === null ? [`baseline: ${cpuGap(b)}`] : [])]))].join('; '),
    };
    const breakdowns: OverheadBreakdown[] = attributed.map(({ s, b, step, baseline }) => overheadBreakdown(s.dataplane, step, probedRequests(s), baseline, probedRequests(b)));
    const byComponent = (pick: (s: StepRecord, name: string) => number | null): Record<string, number> => {
      const names = new Set(group.flatMap((s) => s.components.map((c) => c.name)));
      const r: Record<string, number> = {};
      for (const n of names) {
        const vals = group.map((s) => pick(s, n)).filter((v): v is number => v !== null);
        if (vals.length > 0) r[n] = spread(vals).median;
      }
      return r;
    };
    const conns = group.map((s) => s.connectionsOnPath).filter((v): v is number => v !== null);
    const withProbes = instrumentedByGroup.get(groupKey(first)) ?? [];
    const ebpfSteps = withProbes.length > 0 ? withProbes : group;
    const ebpfRun = ebpfSteps.map((s) => s.ebpf?.runTimeUsPerRequest ?? null).filter((v): v is number => v !== null);
    const ebpfMem = ebpfSteps.map((s) => s.ebpf?.mapMemoryBytes ?? null).filter((v): v is number => v !== null);
    const loadGen = group.map((s) => s.loadGenerator?.cpuUserUsPerRequest ?? null).filter((v): v is number => v !== null);
    out.push({
      dataplane: first.dataplane,
      ...(first.variant === undefined ? {} : { variant: first.variant }),
      placement: first.placement,
      loadPoint: first.loadPoint,
      repetitions: group.length,
      latencyP50Us: measuredSpread(group, pct('50')),
      latencyP90Us: measuredSpread(group, pct('90')),
      latencyP99Us: measuredSpread(group, pct('99')),
      latencyP999Us: measuredSpread(group, pct('99.9')),
      ...optional('latencyLeftOut', leftOutOf(group, pct('50'), latencyGap)),
      // Over the repetitions that measured a rate: a load result interrupted before its window has null, never
      // 0 qps (the runner records no step aborted mid-way, so a run's steps all have one).
      actualQps: spread(group.flatMap((s) => (s.load.actualQps === null ? [] : [s.load.actualQps]))),
      cpuUsPerRequest: measuredSpread(group, totalCpu),
      ...optional('cpuLeftOut', leftOutOf(group, totalCpu, cpuGap)),
      cpuUsPerRequestByComponent: byComponent((s, n) => s.resources[n]?.cpuUsPerRequest ?? null),
      memoryRssBytesPeakByComponent: byComponent((s, n) => s.resources[n]?.memoryRssBytesPeak ?? null),
      errors: spread(group.map((s) => s.load.requestsFailed)),
      connectionsOnPath: conns.length === 0 ? null : spread(conns).median,
      latencyAddedP50Us: added('50', false),
      latencyAddedP50Pct: added('50', true),
      latencyAddedP99Us: added('99', false),
      latencyAddedP99Pct: added('99', true),
      ebpfRunTimeUsPerRequest: ebpfRun.length === 0 ? null : spread(ebpfRun),
      ebpfMapMemoryBytes: ebpfMem.length === 0 ? null : spread(ebpfMem).median,
      ebpfRunTimeUnavailableReason: ebpfRun.length > 0 ? null : (ebpfSteps.find((s) => s.ebpf !== null && s.ebpf.runTimeUsPerRequest === null)?.ebpf?.runTimeSource ?? null),
      breakdown: medianBy(breakdowns, (b) => b.extraCpuUsPerRequest) ?? null,
      breakdownExplainedShare: breakdowns.length === 0 ? null : spread(breakdowns.map((b) => b.explainedShare)),
      extraCpuUsPerRequest: breakdowns.length === 0 ? null : spread(breakdowns.map((b) => b.extraCpuUsPerRequest)),
      memoryPeakBytesByComponent: byComponent((s, n) => s.resources[n]?.memoryPeakBytes ?? null),
      loadGeneratorCpuUsPerRequest: loadGen.length === 0 ? null : spread(loadGen),
      perturbation: perturbation(group, withProbes),
      noisySteps: group.flatMap((s) => ((s.noise?.flags.length ?? 0) > 0 ? [{ id: s.id, flags: s.noise?.flags ?? [] }] : [])),
      ...optional('breakdownLeftOut', breakdownLeftOut),
      breakdownUncertainty: attributed.length === 0 ? null : breakdownUncertainty(attributed.map(({ step, baseline }) => ({ step, baseline })), randomFor(key)),
    });
  }
  const summary = withIntervals({ schemaVersion: resultsSchemaVersion, kind: 'meshbench-summary', runId, status, dataplanesSkipped: skipped, groups: out });
  // Calibration variants (profile `calibration:`): injected against found, per control.
  return out.some((g) => g.variant !== undefined) ? { ...summary, calibration: calibrationVerdicts(summary.groups, allSteps) } : summary;
}

/**
 * The step pairs the breakdown is computed from: the group's instrumented repetitions, each with the
 * baseline's instrumented repetition of the same number (else the median one), where the run has them;
 * else the headline pairs (inline runs, or probes off).
 */
function attributionPairs(
  group: readonly StepRecord[], first: StepRecord, headlinePairs: ReadonlyArray<readonly [StepRecord, StepRecord]>,
  instrumentedByGroup: ReadonlyMap<string, StepRecord[]>,
): ReadonlyArray<readonly [StepRecord, StepRecord]> {
  const mine = instrumentedByGroup.get(groupKey(first)) ?? [];
  if (mine.length === 0 || isReference(first) || group.every((s) => s.measurement === undefined || s.measurement === 'inline')) return headlinePairs;
  const baselines = instrumentedByGroup.get(pointKey(first)) ?? [];
  if (baselines.length === 0) return headlinePairs;
  return mine.map((s) => [s, baselines.find((b) => b.repetition === s.repetition) ?? (medianBy(baselines, pct('50')) as StepRecord)] as const);
}

/** `{ [key]: value }`, or nothing when value is undefined (so summary.json has no undefined keys). */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** Pure: instrumented against clean medians of one group; null without both kinds. */
export function perturbation(clean: readonly StepRecord[], instrumented: readonly StepRecord[]): Perturbation | null {
  const cleanOnly = clean.filter((s) => s.measurement === 'clean');
  const instr = instrumented.filter((s) => s.measurement === 'instrumented');
  if (cleanOnly.length === 0 || instr.length === 0) return null;
  // Medians over the repetitions that have the figure; null on a side where none has it.
  const figure = (f: (s: StepRecord) => number | null): Perturbation['latencyP50Us'] => {
    const c = measuredSpread(cleanOnly, f)?.median ?? null;
    const i = measuredSpread(instr, f)?.median ?? null;
    return { clean: c, instrumented: i, deltaPct: c !== null && i !== null && c > 0 ? (100 * (i - c)) / c : null };
  };
  return {
    cleanRepetitions: cleanOnly.length,
    instrumentedRepetitions: instr.length,
    latencyP50Us: figure(pct('50')),
    latencyP99Us: figure(pct('99')),
    cpuUsPerRequest: figure(totalCpu),
  };
}
