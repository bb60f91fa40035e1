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

/** The browser builds of Vega, Vega-Lite and vega-embed from node_modules, for inlining into the report. */
export function readInlineLibraries(): InlineLibraries {
  const read = (pkg: string, file: string): string => fs.readFileSync(path.join(packageDir(pkg), 'build', file), 'utf8');
  return { vega: read('vega', 'vega.min.js'), vegaLite: read('vega-lite', 'vega-lite.min.js'), vegaEmbed: read('vega-embed', 'vega-embed.min.js') };
}
