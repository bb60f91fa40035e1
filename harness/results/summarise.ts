import { overheadBreakdown, type StepCosts } from '../attribution/overheadBreakdown';
import type { OverheadBreakdown, StepRecord } from './resultTypes';
import { resultsSchemaVersion } from './resultTypes';
import type { Spread, SummaryGroup, SummaryRecord } from './summaryTypes';
import { withIntervals } from './summaryIntervals';

export function spread(values: readonly number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return { values: [], min: 0, median: 0, max: 0 };
  const median = n % 2 === 1 ? (s[n >> 1] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
  return { values: [...values], min: s[0] as number, median, max: s[n - 1] as number };
}

export function groupKey(step: Pick<StepRecord, 'dataplane' | 'placement' | 'loadPoint'>): string {
  const p = step.loadPoint;
  return `${step.dataplane}|${step.placement}|${p.protocol}|${p.qps}|${p.connections}|${p.payloadBytes}|${p.keepAlive}`;
}

function pointKey(step: StepRecord): string {
  return groupKey({ ...step, dataplane: 'baseline' });
}

/** Components whose CPU is their own (the eBPF data plane's run time is already inside its hosts' CPU). */
const ownCpu = (role: string): boolean => role !== 'dataplane';

export function stepCosts(step: StepRecord): StepCosts {
  const out: Record<string, StepCosts[string]> = {};
  for (const c of step.components) {
    if (!ownCpu(c.role)) continue;
    out[c.name] = {
      role: c.role,
      cpuUsPerRequest: step.resources[c.name]?.cpuUsPerRequest ?? 0,
      foldedStacks: step.probes.foldedStacks[c.name] ?? '',
      figures: step.probes.figures[c.name] ?? null,
    };
  }
  return out;
}

const pct = (p: string) => (s: StepRecord): number => s.load.latency.percentilesUs[p] ?? 0;
const totalCpu = (s: StepRecord): number => s.components.filter((c) => ownCpu(c.role)).reduce((a, c) => a + (s.resources[c.name]?.cpuUsPerRequest ?? 0), 0);

function medianBy<T>(items: readonly T[], key: (t: T) => number): T | undefined {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}

/** Pure: the summary of a run's steps, grouped by data plane × placement × load point, spread over repetitions, headline figures with 95 % intervals (summaryIntervals.ts). */
export function summarise(runId: string, status: SummaryRecord['status'], steps: readonly StepRecord[], skipped: SummaryRecord['dataplanesSkipped'] = []): SummaryRecord {
  const groups = new Map<string, StepRecord[]>();
  for (const s of steps) {
    const k = groupKey(s);
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  const baselineByPoint = new Map<string, StepRecord[]>();
  for (const s of steps) if (s.dataplane === 'baseline') baselineByPoint.set(pointKey(s), [...(baselineByPoint.get(pointKey(s)) ?? []), s]);

  const out: SummaryGroup[] = [];
  for (const group of groups.values()) {
    const first = group[0] as StepRecord;
    const baselines = first.dataplane === 'baseline' ? [] : (baselineByPoint.get(pointKey(first)) ?? []);
    // Pair each repetition with the baseline of the same repetition (interleaved runs), else the median baseline.
    const pairs = baselines.length === 0 ? [] : group.map((s) => [s, baselines.find((b) => b.repetition === s.repetition) ?? (medianBy(baselines, pct('50')) as StepRecord)] as const);
    const added = (p: string, relative: boolean): Spread | null => pairs.length === 0 ? null : spread(pairs.map(([s, b]) => {
      const d = pct(p)(s) - pct(p)(b);
      return relative ? (pct(p)(b) > 0 ? (100 * d) / pct(p)(b) : 0) : d;
    }));
    const breakdowns: OverheadBreakdown[] = pairs.map(([s, b]) => overheadBreakdown(s.dataplane, stepCosts(s), s.load.requestsCompleted, stepCosts(b), b.load.requestsCompleted));
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
    const ebpfRun = group.map((s) => s.ebpf?.runTimeUsPerRequest ?? null).filter((v): v is number => v !== null);
    const ebpfMem = group.map((s) => s.ebpf?.mapMemoryBytes ?? null).filter((v): v is number => v !== null);
    out.push({
      dataplane: first.dataplane,
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
      breakdown: medianBy(breakdowns, (b) => b.extraCpuUsPerRequest) ?? null,
      breakdownExplainedShare: breakdowns.length === 0 ? null : spread(breakdowns.map((b) => b.explainedShare)),
      extraCpuUsPerRequest: breakdowns.length === 0 ? null : spread(breakdowns.map((b) => b.extraCpuUsPerRequest)),
    });
  }
  return withIntervals({ schemaVersion: resultsSchemaVersion, kind: 'meshbench-summary', runId, status, dataplanesSkipped: skipped, groups: out });
}
