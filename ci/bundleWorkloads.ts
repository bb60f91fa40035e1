import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { workloadBundlePath } from '../harness/platforms/kubernetes/workloadBundle';

/*
 * Build step: the echo server and load client as one JavaScript file for the kubernetes platform, which
 * ships it in a ConfigMap and runs it on a stock Node image (no image to build or pull from us).
 */
const entry = path.join(__dirname, '..', 'harness', 'platforms', 'kubernetes', 'podMain.js');
buildSync({
  entryPoints: [entry],
  outfile: workloadBundlePath,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  logLevel: 'error',
  define: { 'process.env.MESHBENCH_BUNDLED_VERSION': JSON.stringify((JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version) },
});
