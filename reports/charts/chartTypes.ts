import type { TopLevelSpec } from 'vega-lite/build/index';
import { dataPlaneNames } from '../../harness/profile/profileSchema';
import { breakdownCategories } from '../../harness/results/resultTypes';

/** A chart of the report: a stable id (file name), a title, and its Vega-Lite spec with the data inlined. */
export interface Chart {
  readonly id: string;
  readonly title: string;
  /** One sentence under the chart: how to read it. */
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

export const vegaLiteSchema = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The same colour for a data plane in every chart (baseline grey, kernel-native green, proxies warm). */
export const dataPlaneColors: Readonly<Record<string, string>> = {
  baseline: '#7f7f7f', sidecar: '#d62728', ambient: '#ff7f0e', waypoint: '#9467bd', kernel: '#2ca02c', dual: '#1f77b4',
};

export function dataPlaneColorScale(present: readonly string[]): { domain: string[]; range: string[] } {
  const domain = dataPlaneNames.filter((d) => present.includes(d));
  return { domain, range: domain.map((d) => dataPlaneColors[d] ?? '#17becf') };
}

export const categoryColors: Readonly<Record<string, string>> = {
  copying: '#e6550d', connections: '#fd8d3c', scheduling: '#9e9ac8', syscalls: '#6baed6', 'network-stack': '#31a354',
  'proxy-userspace': '#d6616b', application: '#e7ba52', unexplained: '#bdbdbd',
};

export function categoryColorScale(): { domain: string[]; range: string[] } {
  const domain = [...breakdownCategories];
  return { domain, range: domain.map((c) => categoryColors[c] ?? '#bdbdbd') };
}

/** Data planes in the canonical order, baseline first. */
export function orderDataPlanes(names: Iterable<string>): string[] {
  const set = new Set(names);
  return [...dataPlaneNames.filter((d) => set.has(d)), ...[...set].filter((d) => !(dataPlaneNames as readonly string[]).includes(d)).sort()];
}

export const baseConfig = {
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
} as const;
