import type { SummaryGroup } from '../../harness/results/summaryTypes';
import { orderLoads, pointLabel } from '../stepRows';
import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

interface AddedPoint {
  readonly dataplane: string;
  readonly load: string;
  readonly measure: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Latency each data plane adds over the baseline at the same load point, in µs and in %; null when there is no baseline. */
export function latencyAddedChart(groups: readonly SummaryGroup[]): Chart | null {
  const values: AddedPoint[] = [];
  for (const g of groups) {
    const load = pointLabel(g);
    const add = (measure: string, s: SummaryGroup['latencyAddedP50Us']): void => {
      // Error bars: the 95 % interval of the median difference where there is one, else the repetitions' range.
      if (s !== null) values.push({ dataplane: g.dataplane, load, measure, median: s.median, min: s.interval?.low ?? s.min, max: s.interval?.high ?? s.max });
    };
    add('P50 added (µs)', g.latencyAddedP50Us);
    add('P99 added (µs)', g.latencyAddedP99Us);
    add('P50 added (%)', g.latencyAddedP50Pct);
    add('P99 added (%)', g.latencyAddedP99Pct);
  }
  if (values.length === 0) return null;
  const planes = orderDataPlanes(values.map((v) => v.dataplane));
  const loads = orderLoads(groups);
  const title = 'Latency added over baseline';
  return {
    id: 'latency-added',
    title,
    caption: 'Each repetition is compared with the baseline of the same repetition; bars are the median difference, error bars its 95 % bootstrap interval.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      // One row per measure, so many load points widen the chart instead of squeezing it.
      facet: { row: { field: 'measure', type: 'nominal', sort: ['P50 added (µs)', 'P99 added (µs)', 'P50 added (%)', 'P99 added (%)'], title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: { step: 12 }, // with xOffset the step is one bar: a load point is as wide as its data planes
        height: 150,
        encoding: {
          x: { field: 'load', type: 'nominal', sort: loads, title: null, axis: { labelAngle: -30, labelLimit: 200 } },
          xOffset: { field: 'dataplane', type: 'nominal', sort: planes },
          color: { field: 'dataplane', type: 'nominal', title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes },
        },
        layer: [
          { mark: 'bar', encoding: { y: { field: 'median', type: 'quantitative', title: 'added' }, tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'load', type: 'nominal' }, { field: 'median', type: 'quantitative', format: '.1f' }, { field: 'min', type: 'quantitative', format: '.1f' }, { field: 'max', type: 'quantitative', format: '.1f' }] } },
          { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
        ],
      },
      config: baseConfig,
    },
  };
}
