import { figureInterval } from '../../harness/results/summaryIntervals';
import type { StepRow } from '../stepRows';
import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

export const percentileFields = [
  ['P50', 'latencyP50Us'], ['P90', 'latencyP90Us'], ['P99', 'latencyP99Us'], ['P99.9', 'latencyP999Us'],
] as const;

interface PercentilePoint {
  readonly variant: string;
  readonly dataplane: string;
  readonly x: number;
  readonly percentile: string;
  readonly latencyUs: number;
  readonly repetition: number;
  /** The error bar: 95 % bootstrap interval of the median over repetitions (the summary's), or the single value. */
  readonly lowUs: number;
  readonly highUs: number;
}

/** Per step row and percentile, the interval of its point's median (the same as the summary table's). */
function withIntervals(rows: readonly StepRow[]): Array<StepRow & Record<'lowUs' | 'highUs', Record<string, number>>> {
  const byPoint = new Map<string, StepRow[]>();
  const key = (r: StepRow): string => `${r.dataplane}|${r.placement}|${r.protocol}|${r.qps}|${r.connections}|${r.payloadBytes}|${r.keepAlive}`;
  for (const r of rows) byPoint.set(key(r), [...(byPoint.get(key(r)) ?? []), r]);
  const bounds = new Map<string, { lowUs: Record<string, number>; highUs: Record<string, number> }>();
  for (const [k, group] of byPoint) {
    const first = group[0] as StepRow;
    const lowUs: Record<string, number> = {};
    const highUs: Record<string, number> = {};
    for (const [, field] of percentileFields) {
      // A step that recorded no request has no figure (null): it gives no point and no bound.
      const values = group.flatMap((r) => (r[field] === null ? [] : [r[field]]));
      if (values.length === 0) continue;
      const ci = figureInterval(values, { dataplane: first.dataplane, placement: first.placement, loadPoint: first }, field);
      lowUs[field] = ci?.low ?? Math.min(...values);
      highUs[field] = ci?.high ?? Math.max(...values);
    }
    bounds.set(k, { lowUs, highUs });
  }
  return rows.map((r) => ({ ...r, ...(bounds.get(key(r)) as { lowUs: Record<string, number>; highUs: Record<string, number> }) }));
}

function mostCommon(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
}

function percentileChart(id: string, title: string, caption: string, rows: readonly StepRow[], x: (r: StepRow) => number, xTitle: string): Chart {
  const values: PercentilePoint[] = withIntervals(rows).flatMap((r) => percentileFields.flatMap(([percentile, field]) => {
    const latencyUs = r[field];
    return latencyUs === null ? [] : [{ variant: r.variant, dataplane: r.dataplane, x: x(r), percentile, latencyUs, repetition: r.repetition, lowUs: r.lowUs[field] as number, highUs: r.highUs[field] as number }];
  }));
  const planes = orderDataPlanes(rows.map((r) => r.dataplane));
  return {
    id,
    title,
    caption,
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      // Placements and payloads are different experiments: one row of panels each, never averaged together.
      facet: {
        ...(new Set(rows.map((r) => r.variant)).size > 1 ? { row: { field: 'variant', type: 'nominal' as const, title: null } } : {}),
        column: { field: 'percentile', type: 'nominal', sort: percentileFields.map(([p]) => p), title: null },
      },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 220,
        height: 200,
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xTitle, scale: { zero: false } },
          color: { field: 'dataplane', type: 'nominal', title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes },
        },
        layer: [
          // The 95 % interval of the median behind the median line (every row of a point carries the same bounds).
          {
            transform: [{ aggregate: [{ op: 'min', field: 'lowUs', as: 'lowUs' }, { op: 'max', field: 'highUs', as: 'highUs' }], groupby: ['x', 'dataplane'] }],
            mark: { type: 'errorbar', ticks: true },
            encoding: { y: { field: 'lowUs', type: 'quantitative', title: 'latency (µs)' }, y2: { field: 'highUs' } },
          },
          {
            mark: { type: 'line', point: true },
            encoding: {
              y: { field: 'latencyUs', type: 'quantitative', aggregate: 'median', title: 'latency (µs)' },
              tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'x', type: 'quantitative', title: xTitle }, { field: 'latencyUs', type: 'quantitative', aggregate: 'median', title: 'median µs', format: '.0f' }],
            },
          },
        ],
      },
      config: baseConfig,
    },
  };
}

/** Latency percentiles per data plane against offered QPS, at the most used connection count; null when there is one QPS or none. */
export function latencyVsQpsChart(rows: readonly StepRow[]): Chart | null {
  const fixed = rows.filter((r) => r.qps > 0);
  const conns = mostCommon(fixed.map((r) => r.connections));
  const at = fixed.filter((r) => r.connections === conns);
  if (new Set(at.map((r) => r.qps)).size < 2) return null;
  return percentileChart('latency-vs-qps', `Latency percentiles vs offered load (${conns} connections)`,
    'Lines are the median over repetitions; error bars its 95 % bootstrap interval (the summary table\'s).', at, (r) => r.qps, 'offered load (QPS)');
}

/** Latency percentiles per data plane against connections, at the most used QPS (max-throughput steps apart); null with one connection count. */
export function latencyVsConnectionsChart(rows: readonly StepRow[]): Chart | null {
  const qps = mostCommon(rows.map((r) => r.qps));
  const at = rows.filter((r) => r.qps === qps);
  if (new Set(at.map((r) => r.connections)).size < 2) return null;
  return percentileChart('latency-vs-connections', `Latency percentiles vs connections (${qps === 0 ? 'max throughput' : `${qps} QPS`})`,
    'Lines are the median over repetitions; error bars its 95 % bootstrap interval (the summary table\'s).', at, (r) => r.connections, 'connections');
}

/** With a single load point neither sweep exists: percentiles per data plane as dots over repetitions. */
export function latencyByDataPlaneChart(rows: readonly StepRow[]): Chart {
  const planes = orderDataPlanes(rows.map((r) => r.dataplane));
  const values = withIntervals(rows).flatMap((r) => percentileFields.map(([percentile, field]) => ({ dataplane: r.dataplane, load: r.loadLabel, percentile, latencyUs: r[field], repetition: r.repetition, lowUs: r.lowUs[field] as number, highUs: r.highUs[field] as number })));
  const title = 'Latency percentiles per data plane';
  return {
    id: 'latency-by-dataplane',
    title,
    caption: 'Bars are the median over repetitions; error bars its 95 % bootstrap interval (the summary table\'s); one panel per load point.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      facet: { row: { field: 'load', type: 'nominal', title: null }, column: { field: 'percentile', type: 'nominal', sort: percentileFields.map(([p]) => p), title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 160,
        height: 160,
        encoding: {
          x: { field: 'dataplane', type: 'nominal', sort: planes, title: null, axis: { labelAngle: -40 } },
          color: { field: 'dataplane', type: 'nominal', title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes, legend: null },
        },
        layer: [
          { mark: 'bar', encoding: { y: { field: 'latencyUs', type: 'quantitative', aggregate: 'median', title: 'latency (µs)' }, tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'latencyUs', type: 'quantitative', aggregate: 'median', title: 'median µs', format: '.0f' }] } },
          {
            transform: [{ aggregate: [{ op: 'min', field: 'lowUs', as: 'lowUs' }, { op: 'max', field: 'highUs', as: 'highUs' }], groupby: ['dataplane'] }],
            mark: { type: 'errorbar', ticks: true, color: 'black' },
            encoding: { y: { field: 'lowUs', type: 'quantitative', title: 'latency (µs)' }, y2: { field: 'highUs' } },
          },
        ],
      },
      config: baseConfig,
    },
  };
}
