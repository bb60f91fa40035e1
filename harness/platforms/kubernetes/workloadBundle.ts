import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../errors';

/** The one-file workloads bundle written by the build (ci/bundleWorkloads.ts), dist/pod/workloads.js. */
export const workloadBundlePath = path.join(__dirname, '..', '..', '..', 'pod', 'workloads.js');

/** ConfigMaps hold at most 1 MiB, data and metadata together. */
export const configMapLimitBytes = 1024 * 1024;

export function readWorkloadBundle(file = workloadBundlePath): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new EnvironmentError(`the workloads bundle ${file} is missing`, 'run npm run build (it bundles the workloads for the kubernetes platform)');
  }
  if (Buffer.byteLength(text) > configMapLimitBytes - 16 * 1024) {
    throw new EnvironmentError(`the workloads bundle is ${Buffer.byteLength(text)} bytes, too big for a ConfigMap (1 MiB)`);
  }
  return text;
}
