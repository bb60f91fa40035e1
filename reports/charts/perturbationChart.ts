import type { SummaryGroup } from '../../harness/results/summaryTypes';
import { orderLoads, pointLabel } from '../stepRows';
import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

const measures = ['P50', 'P99', 'CPU µs/request'] as const;

/**
 * What meshbench's own instrumentation (probes, stack sampling, bpf_stats) costs each data plane: the
 * instrumented repetitions' median against the clean ones', in %. Null when the run has no pair (inline
 * mode, probes off).
 */
export function perturbationChart(groups: readonly SummaryGroup[]): Chart | null {
  const values: Array<{ dataplane: string; load: string; measure: string; deltaPct: number; clean: number; instrumented: number }> = [];
  for (const g of groups) {
    const p = g.perturbation;
    if (p === null || p === undefined) continue;
    const figures = [p.latencyP50Us, p.latencyP99Us, p.cpuUsPerRequest];
    figures.forEach((f, i) => {
      if (f.deltaPct !== null && f.clean !== null && f.instrumented !== null) values.push({ dataplane: g.dataplane, load: pointLabel(g), measure: measures[i] as string, deltaPct: f.deltaPct, clean: f.clean, instrumented: f.instrumented });
    });
  }
  if (values.length === 0) return null;
  const planes = orderDataPlanes(values.map((v) => v.dataplane));
  const title = 'Perturbation: instrumented against clean repetitions';
  return {
    id: 'perturbation',
    title,
    caption: 'Change of each figure when the probes, stack sampling and bpf_stats are attached (instrumented repetitions) against the clean repetitions the headline figures come from; medians over each kind\'s repetitions.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      facet: { row: { field: 'measure', type: 'nominal', sort: [...measures], title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: { step: 12 },
        height: 120,
        encoding: {
          x: { field: 'load', type: 'nominal', sort: orderLoads(groups), title: null, axis: { labelAngle: -30, labelLimit: 200 } },
          xOffset: { field: 'dataplane', type: 'nominal', sort: planes },
          color: { field: 'dataplane', type: 'nominal', title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes },
          y: { field: 'deltaPct', type: 'quantitative', title: 'instrumented vs clean (%)' },
          tooltip: [{ field: 'dataplane', type: 'nominal' }, { field: 'measure', type: 'nominal' }, { field: 'clean', type: 'quantitative', format: '.1f' }, { field: 'instrumented', type: 'quantitative', format: '.1f' }, { field: 'deltaPct', type: 'quantitative', format: '+.1f' }],
        },
        mark: 'bar',
      },
      config: baseConfig,
    },
  };
}
