import type { LoadedRun } from '../../harness/results/resultsStore';
import { MeshbenchError } from '../../harness/errors';
import { compareRuns, comparabilityProblems, type CompareVerdict } from '../compare/compareRuns';
import { sortRuns, type RunGate } from './historyModel';

/**
 * The gate verdict of every run: a verdict CI recorded beside the run (compare.json) wins; otherwise
 * each run is compared with the closest earlier run of the same profile on the same machine.
 */
export function runGates(runs: readonly LoadedRun[], recorded: ReadonlyMap<string, CompareVerdict>): { verdicts: Map<string, CompareVerdict | null>; gates: RunGate[] } {
  const sorted = sortRuns(runs);
  const verdicts = new Map<string, CompareVerdict | null>();
  const gates: RunGate[] = [];
  sorted.forEach((r, i) => {
    const saved = recorded.get(r.run.runId);
    let verdict: CompareVerdict | null = saved ?? null;
    let reason: string | null = saved === undefined ? null : 'verdict recorded by CI (compare.json)';
    if (verdict === null) {
      const previous = sorted.slice(0, i).reverse().find((p) => comparabilityProblems(p.run, r.run).length === 0);
      if (previous === undefined) reason = 'no earlier run of the same profile on the same machine';
      else {
        try {
          verdict = compareRuns(previous, r, { allowMissing: true });
        } catch (err) {
          reason = err instanceof MeshbenchError ? err.message : String(err);
        }
      }
    }
    verdicts.set(r.run.runId, verdict);
    gates.push({
      runId: r.run.runId,
      startedAt: r.run.startedAt,
      versus: verdict?.base.runId ?? null,
      verdict: verdict?.verdict ?? 'not compared',
      flaggedChecks: verdict?.rows.filter((row) => row.verdict === 'regression').map((row) => `${row.dataplane} ${row.load} ${row.metric} ${formatChange(row.changePct)}`) ?? [],
      reason,
    });
  });
  return { verdicts, gates };
}

function formatChange(pct: number | null): string {
  return pct === null ? 'not measured' : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;
}
