import path from 'node:path';
import type { PodPlan } from '../platforms/netns/addressPlan';
import { proxyUid, type ServicePlan } from '../platforms/netns/cluster';
import { generateMeshCerts } from './certs';
import { l7Hop, type DataPlane, type DataPlaneOptions, type MeshView } from './dataPlane';
import type { WorkloadProtocol } from '../profile/profileSchema';
import type { BackendSpec, FrontendSpec, HaproxySpec, TlsFiles } from './haproxyConfig';
import { checkProxyKind, haproxyVersion, startHaproxy } from './proxyProcess';

/*
 * Istio's sidecar model: a proxy in every pod; iptables in the pod namespace send the app's outbound TCP to
 * the proxy's outbound port and every inbound TCP connection to its inbound port; the proxy's own traffic
 * is recognised by its uid and left alone. The client's proxy picks the endpoint itself (no DNAT on the
 * way) and talks to the server pod, whose proxy takes the connection in and hands it to the app.
 */

export const sidecarOutboundPort = 15001;
export const sidecarInboundPort = 15006;

/** iptables-restore input for one pod, as istio-iptables writes it (reduced to what the netns cluster needs). */
export function sidecarIptables(uid: number = proxyUid): string {
  return [
    '*nat',
    ':MB-INBOUND - [0:0]',
    ':MB-OUTPUT - [0:0]',
    '-A PREROUTING -p tcp -j MB-INBOUND',
    `-A MB-INBOUND -p tcp -m tcp --dport ${sidecarInboundPort} -j RETURN`,
    `-A MB-INBOUND -p tcp -j REDIRECT --to-ports ${sidecarInboundPort}`,
    '-A OUTPUT -p tcp -j MB-OUTPUT',
    `-A MB-OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A MB-OUTPUT -m owner --gid-owner ${uid} -j RETURN`,
    '-A MB-OUTPUT -d 127.0.0.0/8 -j RETURN',
    `-A MB-OUTPUT -p tcp -j REDIRECT --to-ports ${sidecarOutboundPort}`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * The sidecar proxy of one pod: outbound (per service, by original destination) and inbound to the app. Both
 * sides are L7 for HTTP (HTTP/2 on every bind and server for `http2` and `grpc`, ALPN h2 over mTLS) and L4 for
 * `tcp`. `workers` is HAProxy's nbthread; `tls` the proxy's identity when mTLS is on.
 */
export function sidecarProxySpec(pod: PodPlan, services: readonly ServicePlan[], workers: number, tls?: TlsFiles, protocol: WorkloadProtocol = 'http'): HaproxySpec {
  const { mode, http } = l7Hop(protocol);
  const h = http === undefined ? {} : { http };
  const backends: BackendSpec[] = services.map((s) => ({
    name: `out-${s.name}`,
    mode,
    servers: s.endpoints.map((ep) => ({ name: ep.name, address: ep.ip, port: s.targetPort, ...(tls === undefined ? {} : { tls }), ...h })),
  }));
  const mine = services.find((s) => s.endpoints.some((ep) => ep.name === pod.name));
  backends.push({ name: 'inbound-app', mode, servers: mine === undefined ? [] : [{ name: 'app', address: pod.ip, port: mine.targetPort, ...h }] });
  const first = services[0];
  const frontends: FrontendSpec[] = [
    {
      name: 'outbound', port: sidecarOutboundPort, mode, ...h,
      routes: services.map((s) => ({ backend: `out-${s.name}`, dst: s.vip, dstPort: s.port })),
      defaultBackend: first === undefined ? 'inbound-app' : `out-${first.name}`,
    },
    { name: 'inbound', port: sidecarInboundPort, mode, ...h, ...(tls === undefined ? {} : { tls }), routes: [], defaultBackend: 'inbound-app' },
  ];
  return { workers, frontends, backends };
}

export class SidecarDataPlane implements DataPlane {
  readonly name = 'sidecar' as const;
  readonly connectionsPerRequest = 3;
  readonly pathDescription = 'client → iptables REDIRECT → client-proxy (L7) → server pod → iptables REDIRECT → server-proxy (L7) → server';
  private mesh: MeshView | undefined;
  private certs = new Map<string, TlsFiles>();
  private readonly mine: string[] = [];

  constructor(private readonly options: DataPlaneOptions) {}

  async install(mesh: MeshView): Promise<void> {
    checkProxyKind(this.options);
    this.mesh = mesh;
    if (this.options.mtls) {
      const ids = mesh.cluster.allPods().map((p) => `${p.name}-proxy`);
      this.certs = await generateMeshCerts(path.join(mesh.cluster.workDir, 'certs'), ids, proxyUid);
    }
  }

  async enrol(pod: PodPlan): Promise<void> {
    const mesh = this.mesh;
    if (mesh === undefined) throw new Error('sidecar: install before enrol');
    const component = `${pod.name}-proxy`;
    await mesh.cluster.iptables(pod.netns, sidecarIptables());
    const tls = this.options.mtls ? this.certs.get(component) : undefined;
    const podCpus = this.options.proxyCpusByPod?.[pod.name];
    const options = podCpus === undefined ? this.options : { ...this.options, proxyCpus: podCpus };
    await startHaproxy(mesh.cluster, { component, node: pod.node, netns: pod.netns }, sidecarProxySpec(pod, mesh.services, this.options.workers, tls, this.options.protocol), options);
    this.mine.push(component);
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
  }
}
