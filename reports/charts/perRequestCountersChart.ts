import type { StepRow } from '../stepRows';
import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

const counters = [
  ['TCP connections opened / request', 'connectionsPerRequest'],
  ['TCP connections on one request\'s path', 'connectionsOnPath'],
  ['bytes copied / request', 'bytesCopiedPerRequest'],
  ['context switches / request', 'contextSwitchesPerRequest'],
  ['syscalls / request', 'syscallsPerRequest'],
] as const;

/** Connections, bytes copied, context switches and syscalls per request per data plane (from the probes); null when no step has any. */
export function perRequestCountersChart(rows: readonly StepRow[]): Chart | null {
  const values = rows.flatMap((r) => counters.flatMap(([counter, field]) => {
    const v = r[field];
    return v === null ? [] : [{ dataplane: r.dataplane, load: r.loadLabel, counter, value: v, repetition: r.repetition }];
  }));
  if (values.length === 0) return null;
  const planes = orderDataPlanes(values.map((v) => v.dataplane));
  const present = counters.map(([c]) => c).filter((c) => values.some((v) => v.counter === c));
  const title = 'Kernel work per request';
  return {
    id: 'per-request-counters',
    title,
    caption: 'Probe counters of every component on the path added up and divided by requests completed (kept-alive connections amortise to almost zero), and the TCP connections one request\'s path establishes (counted by the platform); bars are the median, whiskers the range over repetitions.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      facet: { row: { field: 'counter', type: 'nominal', sort: present, title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: { step: 12 }, // with xOffset the step is one bar: a load point is as wide as its data planes
        height: 120,
        encoding: {
          x: { field: 'load', type: 'nominal', sort: [...new Set([...rows].sort((a, b) => a.index - b.index).map((r) => r.loadLabel))], title: null, axis: { labelAngle: -30, labelLimit: 200 } },
          xOffset: { field: 'dataplane', type: 'nominal', sort: planes },
          color: { field: 'dataplane', type: 'nominal', title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes },
        },
        layer: [
          { mark: 'bar', encoding: { y: { field: 'value', type: 'quantitative', aggregate: 'median', title: 'per request' }, tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'counter', type: 'nominal' }, { field: 'value', type: 'quantitative', aggregate: 'median', format: '.3~f' }] } },
          {
            transform: [{ aggregate: [{ op: 'min', field: 'value', as: 'low' }, { op: 'max', field: 'value', as: 'high' }], groupby: ['load', 'dataplane'] }],
            mark: { type: 'errorbar', color: 'black' },
            encoding: { y: { field: 'low', type: 'quantitative', title: 'per request' }, y2: { field: 'high' } },
          },
        ],
      },
      config: baseConfig,
    },
  };
}
