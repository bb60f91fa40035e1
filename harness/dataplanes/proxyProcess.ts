import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors';
import type { NodeName } from '../platforms/netns/addressPlan';
import { proxyUid, type Cluster, type ClusterProcess } from '../platforms/netns/cluster';
import { run } from '../platforms/netns/exec';
import type { DataPlaneOptions } from './dataPlane';
import { renderHaproxyConfig, type HaproxySpec } from './haproxyConfig';
import { haproxyVersionFrom } from './haproxyVersion';

export interface ProxyPlacement {
  readonly component: string;
  readonly node: NodeName | null;
  readonly netns: string;
}

/** Fails early, for the envoy option only, when it cannot be honoured. */
export function checkProxyKind(options: DataPlaneOptions): void {
  if (options.proxy === 'envoy') {
    const onPath = (process.env.PATH ?? '').split(':').some((d) => d !== '' && fs.existsSync(path.join(d, 'envoy')));
    if (!onPath) throw new EnvironmentError('proxy: envoy needs an envoy binary on the PATH, and there is none', 'install Envoy, or use proxy: haproxy (the default)');
    throw new EnvironmentError('proxy: envoy is not supported by this build of the netns platform yet', 'use proxy: haproxy (the default)');
  }
}

/**
 * Renders the config, starts HAProxy in the foreground as the proxy uid inside the namespace and the
 * component's cgroup, and waits until every frontend listens.
 */
export async function startHaproxy(cluster: Cluster, where: ProxyPlacement, spec: HaproxySpec, options: DataPlaneOptions): Promise<ClusterProcess> {
  checkProxyKind(options);
  const cfg = path.join(cluster.workDir, `${where.component}.haproxy.cfg`);
  fs.writeFileSync(cfg, renderHaproxyConfig(spec), { mode: 0o644 });
  const proc = cluster.start({
    component: where.component, role: 'proxy', node: where.node, netns: where.netns, uid: proxyUid,
    ...(options.proxyCpus === undefined ? {} : { cpus: options.proxyCpus }),
    argv: ['haproxy', '-db', '-f', cfg],
  });
  for (const f of spec.frontends) await cluster.waitListening(proc, f.port);
  return proc;
}

let haproxyVersionCache: string | undefined;
/** The installed HAProxy's version (haproxyVersionFrom's form), asked once per process; 'unknown' when `haproxy -v` fails. */
export async function haproxyVersion(): Promise<string> {
  if (haproxyVersionCache === undefined) {
    const out = await run(['haproxy', '-v']).catch(() => 'unknown');
    haproxyVersionCache = haproxyVersionFrom(out) ?? 'unknown';
  }
  return haproxyVersionCache;
}
