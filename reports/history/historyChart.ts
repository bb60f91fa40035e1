import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from '../charts/chartTypes';
import { metricUnits, type GateMetric } from '../compare/gateMetrics';
import type { HistoryChangePoint } from './changePoints';
import type { HistoryPoint, RunGate } from './historyModel';

/**
 * The metric per data plane over runs (one panel per load point); runs the gate flagged get a red rule,
 * flagged points a red cross; change points (E-divisive) a purple rule at the first run of the new level
 * in their panel, with a triangle at the new level (up or down).
 */
export function historyChart(points: readonly HistoryPoint[], gates: readonly RunGate[], metric: GateMetric, changePoints: readonly HistoryChangePoint[] = []): Chart {
  const planes = orderDataPlanes(points.map((p) => p.dataplane));
  const flaggedRuns = gates.filter((g) => g.verdict === 'regression').map((g) => ({ startedAt: g.startedAt, runId: g.runId, checks: g.flaggedChecks.join('; ') }));
  const title = `${metric} across runs`;
  const changes = changePoints.filter((c) => c.metric === metric).map((c) => ({
    load: c.load, startedAt: c.startedAt, runId: c.runId, dataplane: c.dataplane, value: c.afterMedian,
    change: `${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}% (${c.direction}${c.isNew ? ', new' : ''})`, shape: c.afterMedian >= c.beforeMedian ? 'triangle-up' : 'triangle-down',
  }));
  const loads = [...new Set(points.map((p) => p.load))];
  const y = { field: 'value', type: 'quantitative' as const, title: `${metric} (${metricUnits[metric]})`, scale: { zero: false } };
  return {
    id: `history-${metric.replace(/\./g, '-')}`,
    title,
    caption: 'Median over repetitions per run; red rules mark runs the regression gate flagged, red crosses the data planes it flagged on this metric; purple rules and triangles mark change points (E-divisive means) at the first run of the new level.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      vconcat: loads.map((load) => ({
        title: { text: load, fontSize: 12, anchor: 'start' as const },
        width: 720,
        height: 220,
        layer: [
          ...(flaggedRuns.length === 0 ? [] : [{
            data: { values: flaggedRuns },
            mark: { type: 'rule' as const, color: '#d62728', strokeDash: [4, 3], strokeWidth: 1.5 },
            encoding: { x: { field: 'startedAt', type: 'temporal' as const }, tooltip: [{ field: 'runId', type: 'nominal' as const }, { field: 'checks', type: 'nominal' as const, title: 'flagged' }] },
          }]),
          {
            data: { values: points.filter((p) => p.load === load) },
            mark: { type: 'line' as const, point: true },
            encoding: {
              x: { field: 'startedAt', type: 'temporal' as const, title: 'run started' },
              y,
              color: { field: 'dataplane', type: 'nominal' as const, title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes },
              tooltip: [{ field: 'runId', type: 'nominal' as const }, { field: 'gitCommit', type: 'nominal' as const }, { field: 'dataplane', type: 'nominal' as const }, { field: 'value', type: 'quantitative' as const, format: '.1f' }],
            },
          },
          ...(changes.every((c) => c.load !== load) ? [] : [
            {
              data: { values: changes.filter((c) => c.load === load) },
              mark: { type: 'rule' as const, color: '#6a3d9a', strokeWidth: 2 },
              encoding: { x: { field: 'startedAt', type: 'temporal' as const }, tooltip: [{ field: 'runId', type: 'nominal' as const }, { field: 'dataplane', type: 'nominal' as const }, { field: 'change', type: 'nominal' as const, title: 'change point' }] },
            },
            {
              data: { values: changes.filter((c) => c.load === load) },
              mark: { type: 'point' as const, filled: true, size: 120, color: '#6a3d9a' },
              encoding: { x: { field: 'startedAt', type: 'temporal' as const }, y, shape: { field: 'shape', type: 'nominal' as const, scale: null, legend: null } },
            },
          ]),
          {
            data: { values: points.filter((p) => p.load === load && p.flagged) },
            mark: { type: 'point' as const, shape: 'cross', size: 160, color: '#d62728', filled: true },
            encoding: { x: { field: 'startedAt', type: 'temporal' as const }, y },
          },
        ],
      })),
      config: baseConfig,
    },
  };
}
