import type { LoadedRun } from '../../harness/results/resultsStore';
import { isHeadlineStep } from '../../harness/results/resultTypes';
import { spread } from '../../harness/results/summarise';
import { metricValue, type GateMetric } from '../compare/gateMetrics';
import type { CompareVerdict } from '../compare/compareRuns';
import { pointLabel } from '../stepRows';

/** One figure of one run: the median over repetitions of a data plane at a load point. */
export interface HistoryPoint {
  readonly runId: string;
  readonly startedAt: string;
  readonly gitCommit: string | null;
  readonly dataplane: string;
  readonly load: string;
  readonly value: number;
  readonly repetitions: number;
  /** The gate flagged this data plane at this load point, on this metric, in this run. */
  readonly flagged: boolean;
}

/** How a run fared at the gate: against which run, and what regressed; null verdict when it had nothing to compare with. */
export interface RunGate {
  readonly runId: string;
  readonly startedAt: string;
  readonly versus: string | null;
  readonly verdict: CompareVerdict['verdict'] | 'not compared';
  readonly flaggedChecks: readonly string[];
  readonly reason: string | null;
}

export function sortRuns(runs: readonly LoadedRun[]): LoadedRun[] {
  return [...runs].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt) || a.run.runId.localeCompare(b.run.runId));
}

/** A metric across runs (oldest first), with each point marked when the run's gate verdict flagged it. */
export function historyPoints(runs: readonly LoadedRun[], metric: GateMetric, gates: ReadonlyMap<string, CompareVerdict | null>): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  for (const r of sortRuns(runs)) {
    const verdict = gates.get(r.run.runId) ?? null;
    const groups = new Map<string, number[]>();
    for (const s of r.steps.filter(isHeadlineStep)) {
      const v = metricValue(s, metric);
      if (v === null) continue;
      const key = `${s.dataplane}|${pointLabel(s)}`;
      groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    for (const [key, values] of groups) {
      const [dataplane, load] = key.split('|') as [string, string];
      const flagged = verdict?.rows.some((row) => row.verdict === 'regression' && row.metric === metric && row.dataplane === dataplane && `${row.load}${row.placement === 'same-node' ? ', same node' : ''}` === load) ?? false;
      out.push({ runId: r.run.runId, startedAt: r.run.startedAt, gitCommit: r.run.versions.gitCommit ?? null, dataplane, load, value: spread(values).median, repetitions: values.length, flagged });
    }
  }
  return out;
}
