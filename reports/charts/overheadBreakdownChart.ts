import { breakdownCategories, type OverheadBreakdown } from '../../harness/results/resultTypes';
import type { SummaryGroup } from '../../harness/results/summaryTypes';
import { pointLabel } from '../stepRows';
import { explainedShareText } from '../../harness/results/summaryText';
import { baseConfig, categoryColorScale, orderDataPlanes, vegaLiteSchema, type Chart } from './chartTypes';

/** One rectangle of the icicle: x in % of the panel's gross extra CPU, so every panel spans the same width. */
export interface IcicleRect {
  readonly panel: string;
  readonly level: 'extra CPU' | 'category' | 'component';
  readonly name: string;
  readonly category: string;
  readonly x0: number;
  readonly x1: number;
  readonly valueUs: number;
  readonly label: string;
}

const minLabelPct = 9;

/**
 * The partition of one breakdown: extra CPU → categories → components. Categories or components that
 * cost less than in the baseline (negative) cannot be drawn as widths; they are left out of the
 * rectangles and named in the top bar's label, and a category's components are scaled to fill it.
 */
export function icicleRects(panel: string, b: OverheadBreakdown, explained?: string): IcicleRect[] {
  // meshbench's own probes are not the mesh: never drawn as part of its extra CPU, named in the label.
  const meshCategories = breakdownCategories.filter((c) => c !== 'instrumentation');
  const positive = meshCategories.filter((c) => b.byCategoryUs[c] > 0);
  const grossUs = positive.reduce((a, c) => a + b.byCategoryUs[c], 0);
  if (grossUs <= 0) return [];
  const pct = (us: number): number => (100 * us) / grossUs;
  const unexplainedPct = 100 * (1 - Math.min(1, Math.max(0, b.explainedShare)));
  const savings = meshCategories.filter((c) => b.byCategoryUs[c] < 0).map((c) => `${c} ${b.byCategoryUs[c].toFixed(1)}`);
  const share = explained === undefined ? `${unexplainedPct.toFixed(0)}% unexplained` : explained.startsWith('n/a') ? `explained ${explained}` : `${explained} explained`;
  const probes = b.byCategoryUs.instrumentation === 0 ? '' : `; probes ${b.byCategoryUs.instrumentation.toFixed(1)} µs left out`;
  const rects: IcicleRect[] = [{
    panel, level: 'extra CPU', name: 'extra CPU', category: 'total', x0: 0, x1: 100, valueUs: b.extraCpuUsPerRequest,
    label: `${b.extraCpuUsPerRequest >= 0 ? '+' : ''}${b.extraCpuUsPerRequest.toFixed(1)} µs/req, ${
      b.extraCpuUsPerRequest > 0 || explained !== undefined ? share : 'no extra CPU to explain'}${savings.length > 0 ? ` (below baseline: ${savings.join(', ')} µs)` : ''}${probes}`,
  }];
  let x = 0;
  for (const cat of positive) {
    const us = b.byCategoryUs[cat];
    const w = pct(us);
    rects.push({ panel, level: 'category', name: cat, category: cat, x0: x, x1: x + w, valueUs: us, label: w >= minLabelPct ? `${cat} ${us.toFixed(1)}` : '' });
    const parts = Object.entries(b.byComponentUs).map(([component, byCat]) => [component, byCat[cat] ?? 0] as const).filter(([, v]) => v > 0);
    const partsSum = parts.reduce((a, [, v]) => a + v, 0);
    let cx = x;
    for (const [component, v] of parts.sort((p, q) => q[1] - p[1] || p[0].localeCompare(q[0]))) {
      const cw = (w * v) / partsSum;
      rects.push({ panel, level: 'component', name: component, category: cat, x0: cx, x1: cx + cw, valueUs: v, label: cw >= minLabelPct ? component : '' });
      cx += cw;
    }
    x += w;
  }
  return rects;
}

/** The overhead breakdown of every data plane at every load point as a flame-graph style icicle; null without breakdowns. */
export function overheadBreakdownChart(groups: readonly SummaryGroup[]): Chart | null {
  const order = orderDataPlanes(groups.map((g) => g.dataplane));
  const withBreakdown = groups.filter((g) => g.breakdown !== null)
    .sort((a, b) => order.indexOf(a.dataplane) - order.indexOf(b.dataplane) || a.placement.localeCompare(b.placement) || a.loadPoint.payloadBytes - b.loadPoint.payloadBytes || a.loadPoint.connections - b.loadPoint.connections || a.loadPoint.qps - b.loadPoint.qps);
  const values = withBreakdown.flatMap((g) => icicleRects(`${g.dataplane} · ${pointLabel(g)}`, g.breakdown as OverheadBreakdown, (g.breakdownUncertainty ?? null) === null ? undefined : explainedShareText(g)));
  if (values.length === 0) return null;
  const panels = [...new Set(values.map((v) => v.panel))];
  const title = 'Where the extra CPU goes: overhead over baseline by category and component';
  const method = withBreakdown[0]?.breakdown?.method ?? '';
  return {
    id: 'overhead-breakdown',
    title,
    caption: `Top bar: a data plane's extra CPU per request over the baseline at the same load point; middle: split by cost category; bottom: by component. Grey is what the rules could not explain. Method: ${method}.`,
    spec: {
      $schema: vegaLiteSchema,
      title,
      data: { values },
      facet: { row: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      spec: {
        width: 640,
        height: { step: 20 },
        encoding: {
          y: { field: 'level', type: 'ordinal', sort: ['extra CPU', 'category', 'component'], title: null, axis: null },
        },
        layer: [
          {
            mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
            encoding: {
              x: { field: 'x0', type: 'quantitative', scale: { domain: [0, 100] }, axis: null },
              x2: { field: 'x1' },
              color: { field: 'category', type: 'nominal', title: 'category', scale: { domain: [...categoryColorScale().domain, 'total'], range: [...categoryColorScale().range, '#525252'] } },
              tooltip: [{ field: 'panel', type: 'nominal' }, { field: 'level', type: 'nominal' }, { field: 'name', type: 'nominal' }, { field: 'category', type: 'nominal' }, { field: 'valueUs', type: 'quantitative', title: 'µs per request', format: '.2f' }],
            },
          },
          {
            transform: [{ filter: "datum.label != ''" }, { calculate: '(datum.x0 + datum.x1) / 2', as: 'xMid' }],
            mark: { type: 'text', fontSize: 10, color: 'white', limit: 600 },
            encoding: { x: { field: 'xMid', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
      config: { ...baseConfig, view: { stroke: null } },
    },
  };
}
