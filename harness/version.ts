import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The package version, read once from package.json (dist/harness/ → repo root). */
export function meshbenchVersion(): string {
  // The workloads bundle for pods has no package.json beside it: the build writes the version in.
  const bundled = process.env.MESHBENCH_BUNDLED_VERSION;
  if (bundled !== undefined) return bundled;
  if (cached === undefined) {
    const file = path.join(__dirname, '..', '..', 'package.json');
    cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return cached;
}
