import fs from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { workloadBundlePath } from '../harness/platforms/kubernetes/workloadBundle';

/*
 * Build step: the echo server and load client as one JavaScript file for the kubernetes platform, which
 * ships it in a ConfigMap and runs it on a stock Node image (no image to build or pull from us).
 */
const entry = path.join(__dirname, '..', 'harness', 'platforms', 'kubernetes', 'podMain.js');
// The gRPC echo and client read the vendored .proto files: tsc does not copy them, so the build puts them
// next to dist/workloads/grpcProto.js, and the bundle (one file in a ConfigMap) carries their text inline.
const protoSource = path.join(__dirname, '..', '..', 'workloads', 'proto');
const protoTarget = path.join(__dirname, '..', 'workloads', 'proto');
fs.mkdirSync(protoTarget, { recursive: true });
const protos: Record<string, string> = {};
for (const name of fs.readdirSync(protoSource).filter((f) => f.endsWith('.proto')).sort()) {
  fs.copyFileSync(path.join(protoSource, name), path.join(protoTarget, name));
  protos[name] = fs.readFileSync(path.join(protoSource, name), 'utf8');
}
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
  define: {
    'process.env.MESHBENCH_BUNDLED_PROTOS': JSON.stringify(JSON.stringify(protos)),
    'process.env.MESHBENCH_BUNDLED_VERSION': JSON.stringify((JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version),
  },
});
