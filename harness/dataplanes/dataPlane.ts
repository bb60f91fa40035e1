import type { Cluster, ServicePlan } from '../platforms/netns/cluster';
import type { PodPlan } from '../platforms/netns/addressPlan';
import type { DataPlaneName, WorkloadProtocol } from '../profile/profileSchema';
import type { HttpVersion, ProxyMode } from './haproxyConfig';

/** How the data planes that use proxies run them. */
export interface DataPlaneOptions {
  readonly proxy: 'haproxy' | 'envoy';
  /** Proxy worker threads (Istio's default is 2). */
  readonly workers: number;
  /** mTLS between proxies, with a CA and certificates generated for the run. */
  readonly mtls: boolean;
  /** taskset CPU list for every proxy. */
  readonly proxyCpus?: string;
  /**
   * taskset CPU list for a sidecar proxy, by the name of its pod (profile `cpuPinning.proxies: workload`: the
   * proxy on its own workload's CPUs); wins over proxyCpus for a pod it names. Proxies outside pods ignore it.
   */
  readonly proxyCpusByPod?: Readonly<Record<string, string>>;
  /** How the eBPF data planes pick a service's backend (default round-robin). */
  readonly balance?: 'round-robin' | 'random';
  /**
   * What the workloads speak (default http, HTTP/1.1), as a mesh learns it from the port's declared protocol:
   * the L7 hops carry it (HTTP/2 end to end for http2 and grpc), and tcp makes them L4.
   */
  readonly protocol?: WorkloadProtocol;
}

export const defaultDataPlaneOptions: DataPlaneOptions = { proxy: 'haproxy', workers: 2, mtls: false };

/** How a proxy that would act at L7 carries one workload protocol: its HAProxy mode and HTTP version. */
export interface L7Hop {
  readonly mode: ProxyMode;
  /** Set (h2) for HTTP/2 and gRPC: every bind and server of the hop speaks HTTP/2; absent otherwise. */
  readonly http?: HttpVersion;
}

/**
 * The L7 hop for a workload protocol, as Istio treats a port by its protocol: `http` → HTTP/1.1 (`mode http`);
 * `http2` and `grpc` → HTTP/2 on both sides of the proxy (gRPC needs HTTP/2 end to end, trailers included);
 * `tcp` → L4 (`mode tcp`, the bytes pass unchanged), since an L7 proxy cannot parse a raw byte stream.
 */
export function l7Hop(protocol: WorkloadProtocol = 'http'): L7Hop {
  switch (protocol) {
    case 'http': return { mode: 'http' };
    case 'http2':
    case 'grpc':
      return { mode: 'http', http: 'h2' };
    case 'tcp': return { mode: 'tcp' };
  }
}

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
