import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** The package version, read once from package.json (dist/harness/ → repo root). */
export function meshbenchVersion(): string {
  if (cached === undefined) {
    const file = path.join(__dirname, '..', '..', 'package.json');
    cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return cached;
}
