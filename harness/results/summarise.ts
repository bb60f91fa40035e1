import { overheadBreakdown, probedRequests, stepCosts } from '../attribution/overheadBreakdown';
import { breakdownUncertainty } from '../attribution/breakdownInterval';
import { seededRandom, seedFrom, type RandomSource } from './stats/seededRandom';
import type { OverheadBreakdown, StepRecord } from './resultTypes';
import { isHeadlineStep, isInstrumentedStep, resultsSchemaVersion } from './resultTypes';
import type { Perturbation, Spread, SummaryGroup, SummaryRecord } from './summaryTypes';
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

const pct = (p: string) => (s: StepRecord): number => s.load.latency.percentilesUs[p] ?? 0;
const totalCpu = (s: StepRecord): number => s.components.filter((c) => ownCpu(c.role)).reduce((a, c) => a + (s.resources[c.name]?.cpuUsPerRequest ?? 0), 0);

function medianBy<T>(items: readonly T[], key: (t: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
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
    const added = (p: string, relative: boolean): Spread | null => {
      if (pairs.length === 0) return null;
      const base = relative ? spread(pairs.map(([, b]) => pct(p)(b))).median : 1;
      return spread(pairs.map(([s, b]) => {
        const d = pct(p)(s) - pct(p)(b);
        return relative ? (base > 0 ? (100 * d) / base : 0) : d;
      }));
    };
    const attributed = attributionPairs(group, first, pairs, instrumentedByGroup);
    const breakdowns: OverheadBreakdown[] = attributed.map(([s, b]) => overheadBreakdown(s.dataplane, stepCosts(s), probedRequests(s), stepCosts(b), probedRequests(b)));
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
      latencyP50Us: spread(group.map(pct('50'))),
      latencyP90Us: spread(group.map(pct('90'))),
      latencyP99Us: spread(group.map(pct('99'))),
      latencyP999Us: spread(group.map(pct('99.9'))),
      actualQps: spread(group.map((s) => s.load.actualQps)),
      cpuUsPerRequest: spread(group.map(totalCpu)),
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
      breakdownUncertainty: attributed.length === 0 ? null : breakdownUncertainty(attributed.map(([s, b]) => ({ step: stepCosts(s), baseline: stepCosts(b) })), randomFor(key)),
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

/** Pure: instrumented against clean medians of one group; null without both kinds. */
export function perturbation(clean: readonly StepRecord[], instrumented: readonly StepRecord[]): Perturbation | null {
  const cleanOnly = clean.filter((s) => s.measurement === 'clean');
  const instr = instrumented.filter((s) => s.measurement === 'instrumented');
  if (cleanOnly.length === 0 || instr.length === 0) return null;
  const figure = (f: (s: StepRecord) => number): Perturbation['latencyP50Us'] => {
    const c = spread(cleanOnly.map(f)).median;
    const i = spread(instr.map(f)).median;
    return { clean: c, instrumented: i, deltaPct: c > 0 ? (100 * (i - c)) / c : null };
  };
  return {
    cleanRepetitions: cleanOnly.length,
    instrumentedRepetitions: instr.length,
    latencyP50Us: figure(pct('50')),
    latencyP99Us: figure(pct('99')),
    cpuUsPerRequest: figure(totalCpu),
  };
}
