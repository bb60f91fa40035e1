import fs from 'node:fs';
import path from 'node:path';
import { BadInputError } from '../errors';
import type { DataPlaneName, Profile } from './profileSchema';

/*
 * A proxy kind the machine cannot run is refused when the profile is validated, before anything touches
 * the machine. Found in issue 13: `proxy: envoy` passed validation, every proxy data plane was then
 * skipped one by one, and the run still said `complete`.
 */

/** The data planes of the netns platform that start proxies (the rest are kube-proxy DNAT or eBPF only). */
export const proxyDataPlanes: readonly DataPlaneName[] = ['sidecar', 'ambient', 'waypoint', 'dual'];

/** What each proxy kind needs on the PATH, and how to get it. */
const proxyBinaries: Readonly<Record<Profile['proxy']['kind'], { binary: string; install: string }>> = {
  haproxy: { binary: 'haproxy', install: 'apt-get install haproxy (or run bash ci/setup.sh)' },
  envoy: { binary: 'envoy', install: 'install Envoy (https://www.envoyproxy.io/docs/envoy/latest/start/install)' },
};

/** true when an executable file named `binary` is in one of PATH's folders (what `command -v` finds). */
export function onPath(binary: string, pathVar: string = process.env.PATH ?? ''): boolean {
  return pathVar.split(path.delimiter).some((d) => {
    if (d === '') return false;
    try {
      fs.accessSync(path.join(d, binary), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Throws a BadInputError (exit 2, one line naming what to install or what to set instead) when the profile
 * asks the netns platform for a proxy data plane whose proxy kind cannot run here. The kubernetes platform
 * measures the cluster's own meshes, so `proxy.kind` does not apply there. `has` is injected for tests.
 */
export function checkProxyInstalled(profile: Profile, file: string, has: (binary: string) => boolean = (b) => onPath(b)): void {
  if (profile.platform !== 'netns') return;
  const needing = profile.dataplanes.filter((d) => proxyDataPlanes.includes(d));
  if (needing.length === 0) return;
  const kind = profile.proxy.kind;
  const need = proxyBinaries[kind];
  if (!has(need.binary)) {
    throw new BadInputError(`${file}: proxy.kind: ${kind} is not installed (no ${need.binary} on the PATH), and ${needing.join(', ')} need${needing.length === 1 ? 's' : ''} it`, need.install);
  }
  // The netns platform configures HAProxy only (harness/dataplanes/haproxyConfig.ts); an installed Envoy
  // would still fail in every proxy data plane.
  if (kind === 'envoy') {
    throw new BadInputError(`${file}: proxy.kind: envoy is not supported by the netns platform yet (${needing.join(', ')} would be skipped)`, 'use proxy: haproxy (the default)');
  }
}
