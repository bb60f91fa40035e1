import type { SummaryGroup } from '../harness/results/summaryTypes';
import type { Chart } from './charts/chartTypes';
import { latencyAddedChart } from './charts/latencyAddedChart';
import { latencyByDataPlaneChart, latencyVsConnectionsChart, latencyVsQpsChart } from './charts/latencyPercentilesChart';
import { overheadBreakdownChart } from './charts/overheadBreakdownChart';
import { perRequestCountersChart } from './charts/perRequestCountersChart';
import { perturbationChart } from './charts/perturbationChart';
import { cpuPerThousandRequestsChart, memoryChart } from './charts/resourcesChart';
import type { StepRow } from './stepRows';

/**
 * Every chart the data supports, in report order; a chart without data is left out rather than drawn empty.
 * `rows` are the headline (clean or inline) steps; `counterRows` the steps with probes (default: `rows`).
 */
export function reportCharts(rows: readonly StepRow[], groups: readonly SummaryGroup[], notOwnComponents: ReadonlySet<string> = new Set(), counterRows: readonly StepRow[] = rows): Chart[] {
  const sweeps = [latencyVsQpsChart(rows), latencyVsConnectionsChart(rows)];
  const charts: Array<Chart | null> = [
    ...(sweeps.every((c) => c === null) ? [latencyByDataPlaneChart(rows)] : sweeps),
    latencyAddedChart(groups),
    cpuPerThousandRequestsChart(groups, notOwnComponents),
    memoryChart(groups, notOwnComponents),
    perRequestCountersChart(counterRows),
    overheadBreakdownChart(groups),
    perturbationChart(groups),
  ];
  return charts.filter((c): c is Chart => c !== null);
}
