import type { Cluster, ServicePlan } from '../platforms/netns/cluster';
import type { PodPlan } from '../platforms/netns/addressPlan';
import type { DataPlaneName } from '../profile/profileSchema';

/** How the data planes that use proxies run them. */
export interface DataPlaneOptions {
  readonly proxy: 'haproxy' | 'envoy';
  /** Proxy worker threads (Istio's default is 2). */
  readonly workers: number;
  /** mTLS between proxies, with a CA and certificates generated for the run. */
  readonly mtls: boolean;
  /** taskset CPU list for every proxy. */
  readonly proxyCpus?: string;
  /** How the eBPF data planes pick a service's backend (default round-robin). */
  readonly balance?: 'round-robin' | 'random';
}

export const defaultDataPlaneOptions: DataPlaneOptions = { proxy: 'haproxy', workers: 2, mtls: false };

/** What the data plane is told about the mesh, the way a control plane tells its proxies. */
export interface MeshView {
  readonly cluster: Cluster;
  readonly services: readonly ServicePlan[];
}

/**
 * A data plane on the netns platform: install (node-level parts, e.g. node proxies, BPF programs), enrol a
 * pod (sidecar injection, redirection, cgroup attachment), the components it added, uninstall.
 * Pods are enrolled before their application starts, as an init container would.
 */
export interface DataPlane {
  readonly name: DataPlaneName;
  /** TCP connections one request's path establishes (the design table). */
  readonly connectionsPerRequest: number;
  /** The path of one request, for people. */
  readonly pathDescription: string;
  install(mesh: MeshView): Promise<void>;
  enrol(pod: PodPlan): Promise<void>;
  /** Names of the components (cgroups) the data plane runs, e.g. "client-proxy", "node1-proxy". */
  components(): readonly string[];
  /** Versions of what it runs (proxy version…). */
  versions(): Promise<Record<string, string>>;
  /** What the data plane's own counters say it did so far (the eBPF data planes: steered connects, redirected sends). */
  counters?(): Promise<Record<string, number>>;
  uninstall(): Promise<void>;
}
