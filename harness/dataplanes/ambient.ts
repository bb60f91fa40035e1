import path from 'node:path';
import type { NodePlan, PodPlan } from '../platforms/netns/addressPlan';
import { proxyUid, type ServicePlan } from '../platforms/netns/cluster';
import { generateMeshCerts } from './certs';
import { l7Hop, type DataPlane, type DataPlaneOptions, type MeshView } from './dataPlane';
import type { WorkloadProtocol } from '../profile/profileSchema';
import type { BackendSpec, FrontendSpec, HaproxySpec, HttpVersion, ServerSpec, TlsFiles } from './haproxyConfig';
import { checkProxyKind, haproxyVersion, startHaproxy } from './proxyProcess';

/*
 * Istio's ambient model: one L4 proxy per node (ztunnel's role), running in the node namespace. The node
 * redirects enrolled pods' connections to service addresses to it; it picks the endpoint's node and opens a
 * tunnel hop to that node's proxy, which connects to the endpoint pod.
 *
 * The tunnel is a plain TCP hop (TLS when mtls is on) that starts with a PROXY protocol v2 header carrying
 * the original source and the service address, instead of HBONE's HTTP CONNECT: HAProxy 2.6 cannot
 * originate CONNECT tunnels, and the PROXY header gives the peer the same facts (who, and for which
 * service) at the same cost of one connection per hop. The tunnel port is 15008, as HBONE's.
 *
 * `waypoint` adds an L7 proxy for the destination service (a pod on the service's node): the source node
 * proxy tunnels to it, and it tunnels on to the endpoint node's proxy.
 */

export const nodeOutboundPort = 15001;
export const tunnelPort = 15008;
/** Service addresses (the ClusterIP range) that the node redirects for enrolled pods. */
export const serviceCidr = '198.19.0.0/24';

export function ambientRedirectRules(pod: PodPlan): string {
  return [
    '*nat',
    `-A MB-MESH -i ${pod.hostVeth} -p tcp -d ${serviceCidr} -j REDIRECT --to-ports ${nodeOutboundPort}`,
    'COMMIT',
    '',
  ].join('\n');
}

function tunnelServer(name: string, address: string, tls: TlsFiles | undefined, http: HttpVersion | undefined): ServerSpec {
  return { name, address, port: tunnelPort, sendProxy: true, ...(tls === undefined ? {} : { tls }), ...(http === undefined ? {} : { http }) };
}

/**
 * Servers that carry a service's traffic into the mesh tunnel: the waypoint, else each endpoint node's proxy.
 * `http` is set by an L7 sender (the waypoint) only: a node proxy is L4 and passes the bytes as they come.
 */
function serviceTunnelServers(service: ServicePlan, nodes: readonly NodePlan[], waypoint: PodPlan | undefined, tls: TlsFiles | undefined, http?: HttpVersion): ServerSpec[] {
  if (waypoint !== undefined) return [tunnelServer('waypoint', waypoint.ip, tls, http)];
  const endpointNodes = [...new Set(service.endpoints.map((e) => e.node))];
  return nodes.filter((n) => endpointNodes.includes(n.name)).map((n) => tunnelServer(`${n.name}-proxy`, n.fabricIp, tls, http));
}

/**
 * The node proxy: outbound (from redirected pods) and tunnel inbound (to the node's own endpoints). L4 for
 * every workload protocol (ztunnel's role): HTTP/2 and gRPC bytes pass unchanged inside the tunnel.
 */
export function nodeProxySpec(node: NodePlan, nodes: readonly NodePlan[], services: readonly ServicePlan[], waypoints: ReadonlyMap<string, PodPlan>, workers: number, tls?: TlsFiles): HaproxySpec {
  const backends: BackendSpec[] = [{ name: 'none', mode: 'tcp', servers: [] }];
  const outRoutes: FrontendSpec['routes'][number][] = [];
  const inRoutes: FrontendSpec['routes'][number][] = [];
  for (const s of services) {
    backends.push({ name: `out-${s.name}`, mode: 'tcp', servers: serviceTunnelServers(s, nodes, waypoints.get(s.name), tls) });
    outRoutes.push({ backend: `out-${s.name}`, dst: s.vip, dstPort: s.port });
    const local = s.endpoints.filter((e) => e.node === node.name);
    if (local.length > 0) {
      backends.push({ name: `local-${s.name}`, mode: 'tcp', servers: local.map((e) => ({ name: e.name, address: e.ip, port: s.targetPort })) });
      inRoutes.push({ backend: `local-${s.name}`, dst: s.vip, dstPort: s.port });
    }
  }
  const frontends: FrontendSpec[] = [
    { name: 'outbound', port: nodeOutboundPort, mode: 'tcp', routes: outRoutes, defaultBackend: 'none' },
    { name: 'tunnel', port: tunnelPort, mode: 'tcp', acceptProxy: true, ...(tls === undefined ? {} : { tls }), routes: inRoutes, defaultBackend: 'none' },
  ];
  return { workers, frontends, backends };
}

/**
 * The waypoint: L7 for one service, tunnel in, tunnel out to the endpoint nodes' proxies; HTTP/2 on both
 * tunnels for `http2` and `grpc` (the node proxies around it are L4 and relay it), L4 for `tcp`.
 */
export function waypointSpec(service: ServicePlan, nodes: readonly NodePlan[], workers: number, tls?: TlsFiles, protocol: WorkloadProtocol = 'http'): HaproxySpec {
  const { mode, http } = l7Hop(protocol);
  return {
    workers,
    frontends: [{ name: 'tunnel', port: tunnelPort, mode, acceptProxy: true, ...(tls === undefined ? {} : { tls }), ...(http === undefined ? {} : { http }), routes: [], defaultBackend: `svc-${service.name}` }],
    backends: [{ name: `svc-${service.name}`, mode, servers: serviceTunnelServers(service, nodes, undefined, tls, http) }],
  };
}

export class AmbientDataPlane implements DataPlane {
  readonly name: 'ambient' | 'waypoint' = 'ambient';
  readonly connectionsPerRequest: number = 3;
  readonly pathDescription: string = 'client → node REDIRECT → source node-proxy (L4) → tunnel → destination node-proxy (L4) → server';
  protected mesh: MeshView | undefined;
  protected certs = new Map<string, TlsFiles>();
  protected readonly waypoints = new Map<string, PodPlan>();
  private readonly mine: string[] = [];

  constructor(protected readonly options: DataPlaneOptions) {}

  /** Waypoint pods to create before the node proxies are configured; none for plain ambient. */
  protected async createWaypointPods(mesh: MeshView): Promise<void> {
    void mesh;
  }

  async install(mesh: MeshView): Promise<void> {
    checkProxyKind(this.options);
    this.mesh = mesh;
    const cluster = mesh.cluster;
    await this.createWaypointPods(mesh);
    if (this.options.mtls) {
      const ids = [...cluster.nodes.map((n) => `${n.name}-proxy`), ...[...this.waypoints.keys()].map((s) => `waypoint-${s}`)];
      this.certs = await generateMeshCerts(path.join(cluster.workDir, 'certs'), ids, proxyUid);
    }
    await Promise.all([
      ...cluster.nodes.map(async (n) => {
        const component = `${n.name}-proxy`;
        this.mine.push(component);
        const spec = nodeProxySpec(n, cluster.nodes, mesh.services, this.waypoints, this.options.workers, this.certs.get(component));
        await startHaproxy(cluster, { component, node: n.name, netns: n.netns }, spec, this.options);
      }),
      ...[...this.waypoints.entries()].map(async ([serviceName, pod]) => {
        const component = this.waypoints.size === 1 ? 'waypoint' : `waypoint-${serviceName}`;
        this.mine.push(component);
        const spec = waypointSpec(cluster.service(serviceName), cluster.nodes, this.options.workers, this.certs.get(`waypoint-${serviceName}`), this.options.protocol);
        await startHaproxy(cluster, { component, node: pod.node, netns: pod.netns }, spec, this.options);
      }),
    ]);
  }

  async enrol(pod: PodPlan): Promise<void> {
    const mesh = this.mesh;
    if (mesh === undefined) throw new Error(`${this.name}: install before enrol`);
    await mesh.cluster.iptables(mesh.cluster.node(pod.node).netns, ambientRedirectRules(pod));
  }

  components(): readonly string[] {
    return [...this.mine];
  }

  async versions(): Promise<Record<string, string>> {
    return { haproxy: await haproxyVersion() };
  }

  async uninstall(): Promise<void> {
    const mesh = this.mesh;
    if (mesh === undefined) return;
    for (const c of this.mine.splice(0)) await mesh.cluster.stopComponent(c);
    await Promise.all(mesh.cluster.nodes.map((n) => mesh.cluster.iptables(n.netns, '*nat\n-F MB-MESH\nCOMMIT\n')));
  }
}
