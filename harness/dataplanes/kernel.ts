import type { PodPlan } from '../platforms/netns/addressPlan';
import { nodeIndexOf } from '../platforms/netns/addressPlan';
import type { Cluster, ServicePlan } from '../platforms/netns/cluster';
import { l7Hop, type DataPlane, type DataPlaneOptions, type MeshView } from './dataPlane';
import type { WorkloadProtocol } from '../profile/profileSchema';
import type { HaproxySpec } from './haproxyConfig';
import { checkProxyKind, haproxyVersion, startHaproxy } from './proxyProcess';
import { openSteeringWithAddon } from './steeringAddon';
import type { SteeringBpf } from './steeringLoader';
import {
  cgroupPrograms, decodeSteeringStats, endpointEntry, serviceEntries, steeringMaps, steeringObjectName,
  type BalancePolicy, type SteeredService, type SteeringStats,
} from './steeringMaps';

/*
 * The eBPF data planes, after Kmesh.
 *
 * `kernel`: no proxy. bpf/kernelSteering.bpf.c's cgroup/connect4 program, attached to the cgroups of enrolled
 * pods only, rewrites a connect to a service address into a connect to a backend it picks from a BPF map that
 * this file fills (as a control plane feeds Kmesh): one TCP connection, straight to the server. Its sockops
 * program puts the sockets of connections between enrolled pods of the same node into a sockhash, and its
 * sk_msg program hands every send on them to the peer socket's receive queue, skipping the TCP/IP stack.
 *
 * `dual` (Kmesh's dual engine): the same connect4 program sends connections to a service to that service's
 * L7 waypoint (HAProxy, HTTP, on the node of the service's first endpoint), which connects to the server:
 * two connections. The client→waypoint hop is plain HTTP: the client's side has no proxy to speak HBONE or
 * mTLS, so `mtls` does not apply to either eBPF data plane (there is no hop between two proxies).
 */

/** Where the dual waypoint takes plain HTTP from steered clients (Istio's waypoints listen on 15008 for HBONE). */
export const dualWaypointPort = 15008;

/**
 * The dual waypoint of one service: HTTP in, HTTP to the service's endpoints (round robin, kept alive); HTTP/2
 * in and out (h2c) for `http2` and `grpc`, L4 for `tcp`. The connect4 steering before it is protocol-blind.
 */
export function dualWaypointSpec(service: ServicePlan, workers: number, protocol: WorkloadProtocol = 'http'): HaproxySpec {
  const backend = `svc-${service.name}`;
  const { mode, http } = l7Hop(protocol);
  const h = http === undefined ? {} : { http };
  return {
    workers,
    frontends: [{ name: 'inbound', port: dualWaypointPort, mode, ...h, routes: [], defaultBackend: backend }],
    backends: [{ name: backend, mode, servers: service.endpoints.map((e) => ({ name: e.name, address: e.ip, port: service.targetPort, ...h })) }],
  };
}

/** What the control plane writes into the kernel for each service: its endpoints, or its waypoint. */
export function steeredServices(services: readonly ServicePlan[], waypoints: ReadonlyMap<string, PodPlan>, policy: BalancePolicy): SteeredService[] {
  return services.map((s) => {
    const waypoint = waypoints.get(s.name);
    return {
      id: s.index, vip: s.vip, port: s.port, policy,
      backends: s.endpoints.map((e) => ({ ip: e.ip, port: s.targetPort })),
      ...(waypoint === undefined ? {} : { waypoint: { ip: waypoint.ip, port: dualWaypointPort } }),
    };
  });
}

/** Loads bpf/kernelSteering.bpf.c for a run. */
export type SteeringOpener = (cluster: Cluster) => Promise<SteeringBpf>;

export const openSteering: SteeringOpener = async (cluster) => openSteeringWithAddon(cluster.runCgroupV2Path);

export class KernelDataPlane implements DataPlane {
  readonly connectionsPerRequest: number;
  readonly pathDescription: string;
  private mesh: MeshView | undefined;
  private bpf: SteeringBpf | undefined;
  private readonly waypoints = new Map<string, PodPlan>();
  private readonly mine: string[] = [];

  constructor(readonly name: 'kernel' | 'dual', private readonly options: DataPlaneOptions, private readonly open: SteeringOpener = openSteering) {
    this.connectionsPerRequest = name === 'kernel' ? 1 : 2;
    this.pathDescription = name === 'kernel'
      ? 'client → eBPF cgroup/connect4 picks the backend → server (same node: sk_msg redirect socket to socket)'
      : 'client → eBPF cgroup/connect4 steers to the service waypoint → waypoint (L7) → server';
  }

  async install(mesh: MeshView): Promise<void> {
    this.mesh = mesh;
    const cluster = mesh.cluster;
    if (this.name === 'dual') {
      checkProxyKind(this.options);
      await this.startWaypoints(mesh);
    }
    const bpf = await this.open(cluster);
    this.bpf = bpf;
    for (const s of steeredServices(mesh.services, this.waypoints, this.options.balance ?? 'round-robin')) {
      const entries = serviceEntries(s);
      for (const b of entries.backends) await bpf.update(steeringMaps.backends, b);
      await bpf.update(steeringMaps.services, entries.services);
    }
  }

  private async startWaypoints(mesh: MeshView): Promise<void> {
    const single = mesh.services.length === 1;
    for (const s of mesh.services) {
      const node = s.endpoints[0]?.node ?? mesh.cluster.nodes[0]?.name ?? 'node1';
      const component = single ? 'waypoint' : `waypoint-${s.name}`;
      const [pod] = await mesh.cluster.addPods([{ name: component, node }]);
      if (pod === undefined) continue;
      this.waypoints.set(s.name, pod);
      this.mine.push(component);
      await startHaproxy(mesh.cluster, { component, node: pod.node, netns: pod.netns }, dualWaypointSpec(s, this.options.workers, this.options.protocol), this.options);
    }
  }

  /** Attaches connect4 and sockops to the pod's own cgroup, before its application starts in it. */
  async enrol(pod: PodPlan): Promise<void> {
    const mesh = this.mesh;
    const bpf = this.bpf;
    if (mesh === undefined || bpf === undefined) throw new Error(`${this.name}: install before enrol`);
    const cgroup = mesh.cluster.podCgroup(pod.name);
    await bpf.update(steeringMaps.endpoints, endpointEntry(pod.ip, nodeIndexOf(pod.node)));
    for (const program of cgroupPrograms) await bpf.attachCgroup(program, cgroup.v2Path);
  }

  /** What the programs did so far (steered connects, sockets short-circuited, sends redirected). */
  async stats(): Promise<SteeringStats> {
    if (this.bpf === undefined) throw new Error(`${this.name}: not installed`);
    return decodeSteeringStats(await this.bpf.dump(steeringMaps.stats));
  }

  async counters(): Promise<Record<string, number>> {
    return { ...(await this.stats()) };
  }

  components(): readonly string[] {
    return [...this.mine];
  }

  async versions(): Promise<Record<string, string>> {
    return { bpfLoader: this.bpf?.loader ?? 'not loaded', ...(this.name === 'dual' ? { haproxy: await haproxyVersion() } : {}) };
  }

  async uninstall(): Promise<void> {
    const bpf = this.bpf;
    this.bpf = undefined;
    await bpf?.close();
    const mesh = this.mesh;
    if (mesh === undefined) return;
    for (const c of this.mine.splice(0)) await mesh.cluster.stopComponent(c);
  }
}

export function createKernelDataPlane(name: 'kernel' | 'dual', options: DataPlaneOptions): DataPlane {
  return new KernelDataPlane(name, options);
}
