import type { StepRecord } from '../../harness/results/resultTypes';
import { loadLabel } from '../stepRows';
import { orderDataPlanes } from './chartTypes';
import { addFolded, flameGraphSvg, newNode, type FlameNode } from './flameGraphSvg';
import { flameTreeJson, strippedBinariesIn, strippedNote, type FlameTreeJson } from './flameGraphTree';

export interface FlameGraph {
  readonly id: string;
  readonly title: string;
  readonly kind: 'component' | 'diff';
  readonly dataplane: string;
  /** The static SVG (flamegraph.pl style), for charts/ and the Markdown report. */
  readonly svg: string;
  /** The same frames for d3-flame-graph in the HTML report (search, click-to-zoom). */
  readonly tree: FlameTreeJson;
  /** What the reader must know to read it: the sample source, and which stripped binaries appear. */
  readonly caption: string;
  /** Unit of the values ("samples", "samples/request"). */
  readonly unit: string;
}

function pointKey(s: StepRecord): string {
  return `${s.placement}|${loadLabel(s.loadPoint)}|${s.loadPoint.payloadBytes}`;
}

/** The load point the flame graphs describe: the one with the most sampled steps (ties: the earliest). */
export function flameGraphPoint(steps: readonly StepRecord[]): string | undefined {
  const counts = new Map<string, number>();
  for (const s of steps) if (Object.values(s.probes.foldedStacks).some((f) => f.trim() !== '')) counts.set(pointKey(s), (counts.get(pointKey(s)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

const safeId = (s: string): string => s.replace(/[^a-zA-Z0-9_-]+/g, '-');

/**
 * Per data plane at one load point: a flame graph per component (samples summed over repetitions) and a
 * differential graph of all its components against the baseline's, both per request so unequal
 * request counts do not show as differences. Empty when no step sampled stacks.
 */
export function flameGraphs(steps: readonly StepRecord[]): FlameGraph[] {
  const point = flameGraphPoint(steps);
  if (point === undefined) return [];
  const at = steps.filter((s) => pointKey(s) === point);
  const [placement, load] = point.split('|');
  const perPlane = new Map<string, StepRecord[]>();
  for (const s of at) perPlane.set(s.dataplane, [...(perPlane.get(s.dataplane) ?? []), s]);
  const perRequestTree = (group: readonly StepRecord[]): FlameNode => {
    const root = newNode('all');
    const requests = group.reduce((a, s) => a + s.load.requestsCompleted, 0);
    for (const s of group) for (const [component, folded] of Object.entries(s.probes.foldedStacks)) addFolded(root, folded, [component], requests > 0 ? 1 / requests : 1);
    return root;
  };
  const out: FlameGraph[] = [];
  const baseline = perPlane.get('baseline');
  const baselineTree = baseline === undefined ? undefined : perRequestTree(baseline);
  for (const dp of orderDataPlanes(perPlane.keys())) {
    const group = perPlane.get(dp) ?? [];
    const components = [...new Set(group.flatMap((s) => Object.keys(s.probes.foldedStacks)))].sort();
    for (const component of components) {
      const root = newNode(component);
      for (const s of group) addFolded(root, s.probes.foldedStacks[component] ?? '');
      if (root.value <= 0) continue;
      const title = `${dp} · ${component}`;
      const subtitle = `cpu-clock samples over ${group.length} repetition(s), ${load}, ${placement}`;
      const note = strippedNote(strippedBinariesIn(root));
      out.push({
        id: `flame-${safeId(dp)}-${safeId(component)}`, title, kind: 'component', dataplane: dp, unit: 'samples',
        svg: flameGraphSvg(root, { title, subtitle, ...(note === '' ? {} : { note }) }),
        tree: flameTreeJson(root), caption: note === '' ? `${subtitle}.` : `${subtitle}. ${note}.`,
      });
    }
    if (dp !== 'baseline' && baselineTree !== undefined) {
      const tree = perRequestTree(group);
      if (tree.value <= 0) continue;
      const title = `${dp} vs baseline (differential)`;
      const subtitle = `samples per request, ${load}: width = ${dp}, red = more than baseline, blue = less`;
      const note = strippedNote(strippedBinariesIn(tree));
      out.push({
        id: `flame-diff-${safeId(dp)}`, title, kind: 'diff', dataplane: dp, unit: 'samples/request',
        svg: flameGraphSvg(tree, { title, subtitle, unit: 'samples/request', versus: baselineTree, ...(note === '' ? {} : { note }) }),
        tree: flameTreeJson(tree, baselineTree), caption: note === '' ? `${subtitle}.` : `${subtitle}. ${note}.`,
      });
    }
  }
  return out;
}
