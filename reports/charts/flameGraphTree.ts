import type { FlameNode } from './flameGraphSvg';

/**
 * A flame graph as the hierarchical JSON d3-flame-graph draws (github.com/spiermar/d3-flame-graph, README
 * "Input Format"): `value` is the frame's inclusive count (samples, or samples per request), `children` its
 * callees sorted by name (flamegraph.pl's order), and for a differential graph `delta` the inclusive change
 * against the baseline in the same unit (positive = more, drawn red by its differentialColorMapper).
 */
export interface FlameTreeJson {
  readonly name: string;
  readonly value: number;
  readonly children: FlameTreeJson[];
  readonly delta?: number;
}

/** The d3-flame-graph JSON of `root`; with `versus`, each frame carries its delta against the frame at the same path there. */
export function flameTreeJson(root: FlameNode, versus?: FlameNode): FlameTreeJson {
  const convert = (n: FlameNode, other: FlameNode | undefined, isRoot: boolean): FlameTreeJson => {
    const children = [...n.children.values()].sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => convert(c, other?.children.get(c.name), false));
    if (versus === undefined) return { name: n.name, value: n.value, children };
    // The roots are both "all": compare totals.
    const base = isRoot ? versus.value : (other?.value ?? 0);
    return { name: n.name, value: n.value, children, delta: n.value - base };
  };
  return convert(root, versus, true);
}

/**
 * Binaries the data planes run that Debian ships stripped (no .symtab; checked with `file` on Debian 12's
 * haproxy and nginx-light): their frames are named from the dynamic symbols only, which the graph must say.
 */
export const strippedBinaries: readonly string[] = ['haproxy', 'nginx'];

/** The stripped binaries (strippedBinaries) whose frames appear in the tree, as process name or mapping ("[haproxy]"). */
export function strippedBinariesIn(root: FlameNode): string[] {
  const found = new Set<string>();
  const walk = (n: FlameNode): void => {
    for (const b of strippedBinaries) if (n.name === b || n.name === `[${b}]`) found.add(b);
    for (const c of n.children.values()) walk(c);
  };
  walk(root);
  return [...found].sort();
}

/** The sentence a graph carries when stripped binaries appear in it; '' when none do. */
export function strippedNote(binaries: readonly string[]): string {
  if (binaries.length === 0) return '';
  const list = binaries.join(' and ');
  return `${list}: the Debian binary is stripped, so its frames are named from its dynamic (exported) symbols only; the rest show as ${binaries.map((b) => `[${b}]`).join(', ')}`;
}
