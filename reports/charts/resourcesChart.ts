import type { SummaryGroup } from '../../harness/results/summaryTypes';
import { orderLoads, pointLabel } from '../stepRows';
import { baseConfig, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

interface ComponentPoint {
  readonly dataplane: string;
  readonly load: string;
  readonly component: string;
  readonly value: number;
}

function stackedChart(id: string, title: string, caption: string, yTitle: string, values: readonly ComponentPoint[], format: string, loads: string[]): Chart {
  const planes = orderDataPlanes(values.map((v) => v.dataplane));
  return {
    id,
    title,
    caption,
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values: [...values] },
      facet: { column: { field: 'load', type: 'nominal', sort: loads, title: null } },
      spec: {
        width: { step: 28 },
        height: 220,
        mark: 'bar',
        encoding: {
          x: { field: 'dataplane', type: 'nominal', sort: planes, title: null, axis: { labelAngle: -40 } },
          y: { field: 'value', type: 'quantitative', aggregate: 'sum', title: yTitle, stack: 'zero' },
          color: { field: 'component', type: 'nominal', title: 'component', scale: { scheme: 'tableau10' } },
          tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'component', type: 'nominal' }, { field: 'value', type: 'quantitative', format }],
        },
      },
      config: baseConfig,
    },
  };
}

/** CPU per 1,000 requests, stacked by component (`notOwn`: eBPF data-plane components, whose time is inside their hosts'), per data plane and load point (median over repetitions); null without resource samples. */
export function cpuPerThousandRequestsChart(groups: readonly SummaryGroup[], notOwn: ReadonlySet<string> = new Set()): Chart | null {
  const values = groups.flatMap((g) => Object.entries(g.cpuUsPerRequestByComponent).filter(([c]) => !notOwn.has(c)).map(([component, us]) => ({ dataplane: g.dataplane, load: pointLabel(g), component, value: us })));
  if (values.length === 0) return null;
  // µs per request × 1000 requests / 1000 µs per ms = ms per 1,000 requests: the same number as µs per request.
  return stackedChart('cpu-per-1k-requests', 'CPU per 1,000 requests by component', 'CPU time of each component\'s cgroup (user + system) over the measured window, divided by requests completed; median over repetitions.', 'CPU ms per 1,000 requests', values, '.2f', orderLoads(groups));
}

/** Peak memory by component (a level, not a rate: shown per data plane, not per request); null without samples. */
export function memoryChart(groups: readonly SummaryGroup[], notOwn: ReadonlySet<string> = new Set()): Chart | null {
  const values = groups.flatMap((g) => Object.entries(g.memoryRssBytesPeakByComponent).filter(([c]) => !notOwn.has(c)).map(([component, bytes]) => ({ dataplane: g.dataplane, load: pointLabel(g), component, value: bytes / 2 ** 20 })));
  if (values.length === 0) return null;
  return stackedChart('memory-peak', 'Peak memory by component', 'Peak resident memory of each component\'s cgroup during the step (MiB), median over repetitions; memory is a level, so it is not divided by requests.', 'peak RSS (MiB)', values, '.1f', orderLoads(groups));
}
