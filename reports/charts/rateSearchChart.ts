import type { RateSearchSummary } from '../../harness/results/searchSummary';
import { objectiveText } from '../../harness/results/searchSummary';
import { baseConfig, dataPlaneColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

const percentiles = ['P50', 'P99', 'max'] as const;

/**
 * The rate searches (`load.search`) as one chart: above, every probe's P50, P99 and max latency against the
 * offered rate (log–log: the knee spans orders of magnitude), a line per data plane and percentile through
 * the median at each rate, the probe's verdict as the point's shape, the objective's P99 limit as a red
 * rule and each data plane's answer as a dashed vertical rule; below, CPU per request along the way. Null
 * without searches.
 */
export function rateSearchChart(searches: readonly RateSearchSummary[] | undefined): Chart | null {
  if (searches === undefined || searches.length === 0) return null;
  const manyPlacements = new Set(searches.map((s) => s.placement)).size > 1;
  const series = (s: RateSearchSummary): string => (manyPlacements ? `${s.dataplane} ${s.placement}` : s.dataplane);
  // A probe that recorded no request has no latency to draw (null figures): it is left out of this panel.
  const latency = searches.flatMap((s) => s.probes.flatMap((p) => percentiles.flatMap((percentile) => {
    const us = percentile === 'P50' ? p.p50Us : percentile === 'P99' ? p.p99Us : p.maxUs;
    return us === null ? [] : [{
      dataplane: s.dataplane, series: series(s), qps: p.qps, percentile, probe: p.probe, verdict: p.verdict,
      latencyUs: Math.max(1, us), achievedQps: p.achievedQps === null ? null : Math.round(p.achievedQps), errorsPct: 100 * p.errorShare,
    }];
  })));
  const cpu = searches.flatMap((s) => s.probes.filter((p) => p.cpuUsPerRequest !== null).map((p) => ({
    dataplane: s.dataplane, series: series(s), qps: p.qps, probe: p.probe, verdict: p.verdict, cpuUsPerRequest: p.cpuUsPerRequest as number,
  })));
  const answers = searches.filter((s) => s.maxQps !== null).map((s) => ({ dataplane: s.dataplane, series: series(s), maxQps: s.estimateQps ?? (s.maxQps as number), low: s.knownWithin.low, high: s.knownWithin.high ?? null, outcome: s.outcome }));
  const first = searches[0] as RateSearchSummary;
  const limits = first.config.objective.p99Us === null ? [] : [{ limitUs: first.config.objective.p99Us, label: `objective P99 ${first.config.objective.p99Us / 1000} ms` }];
  const planes = orderDataPlanes(searches.map((s) => s.dataplane));
  const color = { field: 'dataplane', type: 'nominal' as const, title: 'data plane', scale: dataPlaneColorScale(planes), sort: planes };
  const x = { field: 'qps', type: 'quantitative' as const, title: 'offered rate (requests/s, open loop)', scale: { type: 'log' as const } };
  const title = `Maximum rate under the objective (${objectiveText(first.config)})`;
  return {
    id: 'rate-search',
    title,
    caption: 'Every probe of the search: P50, P99 and max latency (log scale) against the offered rate; filled circles passed the objective, crosses failed; lines join the median at each rate. The red rule is the P99 limit, the dashed vertical rules each data plane\'s answer (where the fit of its probes crosses the objective; the highest rate that passed for searches without the fit). Below: CPU µs per request of every component at each probe.',
    spec: {
      $schema: vegaLiteSchema,
      title,
      vconcat: [
        {
          width: 460,
          height: 260,
          layer: [
            {
              data: { values: latency },
              mark: { type: 'line' },
              encoding: {
                x, color,
                y: { field: 'latencyUs', type: 'quantitative', aggregate: 'median', title: 'latency (µs)', scale: { type: 'log' } },
                strokeDash: { field: 'percentile', type: 'nominal', sort: [...percentiles], title: 'percentile' },
                detail: { field: 'series', type: 'nominal' },
              },
            },
            {
              data: { values: latency },
              mark: { type: 'point', filled: true, size: 45 },
              encoding: {
                x, color,
                y: { field: 'latencyUs', type: 'quantitative', scale: { type: 'log' } },
                shape: { field: 'verdict', type: 'nominal', title: 'verdict', scale: { domain: ['pass', 'fail'], range: ['circle', 'cross'] } },
                tooltip: [{ field: 'series', type: 'nominal', title: 'data plane' }, { field: 'probe', type: 'quantitative' }, { field: 'qps', type: 'quantitative', title: 'offered qps' }, { field: 'achievedQps', type: 'quantitative', title: 'achieved qps' }, { field: 'percentile', type: 'nominal' }, { field: 'latencyUs', type: 'quantitative', title: 'µs', format: '.0f' }, { field: 'errorsPct', type: 'quantitative', title: 'errors %', format: '.2f' }, { field: 'verdict', type: 'nominal' }],
              },
            },
            ...(limits.length === 0 ? [] : [{
              data: { values: limits },
              mark: { type: 'rule' as const, color: '#d62728', strokeWidth: 2 },
              encoding: { y: { field: 'limitUs', type: 'quantitative' as const }, tooltip: [{ field: 'label', type: 'nominal' as const }] },
            }]),
            ...(answers.length === 0 ? [] : [{
              data: { values: answers },
              mark: { type: 'rule' as const, strokeDash: [6, 4] },
              encoding: { x: { field: 'maxQps', type: 'quantitative' as const }, color, tooltip: [{ field: 'series', type: 'nominal' as const, title: 'data plane' }, { field: 'maxQps', type: 'quantitative' as const, title: 'max qps' }, { field: 'low', type: 'quantitative' as const, title: 'highest passing qps' }, { field: 'high', type: 'quantitative' as const, title: 'lowest failing qps' }, { field: 'outcome', type: 'nominal' as const }] },
            }]),
          ],
        },
        ...(cpu.length === 0 ? [] : [{
          width: 460,
          height: 120,
          data: { values: cpu },
          mark: { type: 'line' as const, point: true },
          encoding: {
            x, color,
            y: { field: 'cpuUsPerRequest', type: 'quantitative' as const, aggregate: 'median' as const, title: 'CPU µs/request' },
            detail: { field: 'series', type: 'nominal' as const },
            tooltip: [{ field: 'series', type: 'nominal' as const, title: 'data plane' }, { field: 'qps', type: 'quantitative' as const, title: 'offered qps' }, { field: 'cpuUsPerRequest', type: 'quantitative' as const, aggregate: 'median' as const, title: 'CPU µs/request', format: '.1f' }],
          },
        }]),
      ],
      resolve: { scale: { color: 'shared' } },
      config: baseConfig,
    },
  };
}
