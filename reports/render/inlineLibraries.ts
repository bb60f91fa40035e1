import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../harness/errors';
import type { InlineLibraries } from './htmlReport';

/** The package's folder, found the way Node looks for it (walking up node_modules), ignoring its "exports" map. */
export function packageDir(name: string, from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new EnvironmentError(`the npm package ${name} is not installed`, 'run npm ci in the meshbench checkout');
  }
}

/**
 * The d3 modules d3-flame-graph's UMD build takes from the global `d3` (its package.json dependencies) and
 * the ones those need, in load order: each module's UMD build extends `d3` and reads its own dependencies
 * from it. Inlining these (~100 kB) rather than the whole d3 bundle (~280 kB) keeps the report small.
 */
export const d3ModulesForFlameGraph: readonly string[] = [
  'd3-array', 'd3-dispatch', 'd3-ease', 'd3-format', 'd3-color', 'd3-interpolate', 'd3-timer', 'd3-selection',
  'd3-transition', 'd3-hierarchy', 'd3-time', 'd3-time-format', 'd3-scale',
];

/**
 * The browser builds of Vega, Vega-Lite, vega-embed, d3-flame-graph and its d3 modules from node_modules,
 * for inlining into the report. Throws EnvironmentError when a package is not installed.
 */
export function readInlineLibraries(): InlineLibraries {
  const read = (pkg: string, file: string): string => fs.readFileSync(path.join(packageDir(pkg), file), 'utf8');
  const flameDir = packageDir('d3-flame-graph');
  return {
    vega: read('vega', 'build/vega.min.js'), vegaLite: read('vega-lite', 'build/vega-lite.min.js'), vegaEmbed: read('vega-embed', 'build/vega-embed.min.js'),
    // d3-flame-graph's dependencies may be nested under it (npm puts a conflicting version there).
    d3: d3ModulesForFlameGraph.map((m) => fs.readFileSync(path.join(packageDir(m, flameDir), 'dist', `${m}.min.js`), 'utf8')).join('\n;\n'),
    d3FlameGraph: fs.readFileSync(path.join(flameDir, 'dist', 'd3-flamegraph.umd.min.js'), 'utf8'),
  };
}
