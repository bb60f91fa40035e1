import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Profile } from '../../profile/profileSchema';
import type { ComponentRole } from '../../results/resultTypes';
import type { MeasuredComponent, ProbeProvider, StepProbeResult, StepProbes } from '../../runner/platformSession';
import { probeAgentPort } from './manifests';
import { containerCgroups, containerIdOf, findPodCgroup } from './podCgroups';

/*
 * The probe agent: what each pod of the meshbench-probes DaemonSet runs (`meshbench probe-agent`). It turns
 * the runner's targets (pod UID + container ID) into this node's cgroup directories and drives the same
 * probe provider as a local run over them; the runner reaches it through the API server's pod proxy.
 *   POST /v1/open    { profile } → { node, available, reason }   (loads the probes once)
 *   POST /v1/start   { profile, targets: [{ name, role, podUid, containerName, containerId }] } → { started, missing }
 *   POST /v1/stop    → StepProbeResult (figures, detail, folded stacks per component name)
 * Every request carries the run's token (x-meshbench-token), which the runner put in the DaemonSet's
 * environment: nobody else in the pod network can point a privileged agent at other pods.
 */

export { probeAgentPort };

export interface ProbeAgentTarget {
  readonly name: string;
  readonly role: ComponentRole;
  readonly podUid: string;
  /** null: the whole pod (every container). */
  readonly containerName: string | null;
  readonly containerId: string | null;
}

export interface ProbeAgentStatus {
  readonly node: string;
  readonly available: boolean;
  readonly reason: string | null;
}

export interface ProbeAgentOptions {
  readonly host?: string;
  readonly port?: number;
  readonly node: string;
  /** The node's cgroup v2 mount as the agent sees it. */
  readonly cgroupRoot: string;
  /** The probes, once the first profile arrives (the local provider in the image). */
  readonly openProvider: (profile: Profile) => Promise<ProbeProvider | undefined>;
  /** Requests must carry it in the x-meshbench-token header: the agent is privileged and reachable in the pod network. */
  readonly token: string;
}

export const probeTokenHeader = 'x-meshbench-token';

/** Pure: the targets as components with this node's cgroup paths, and the names that were not found. */
export function resolveTargets(cgroupRoot: string, node: string, targets: readonly ProbeAgentTarget[]): { components: MeasuredComponent[]; missing: string[] } {
  const components: MeasuredComponent[] = [];
  const missing: string[] = [];
  for (const t of targets) {
    const podDir = findPodCgroup(cgroupRoot, t.podUid);
    const dir = podDir === null ? null
      : t.containerName === null || t.containerId === null ? podDir
        : containerCgroups(podDir, [{ name: t.containerName, containerId: containerIdOf(t.containerId) }])[0]?.v2Path ?? null;
    if (dir === null) missing.push(t.name);
    else components.push({ name: t.name, role: t.role, node, cgroupId: null, v2Path: dir });
  }
  return { components, missing };
}

export class ProbeAgent {
  private provider: ProbeProvider | undefined;
  private providerReason: string | null = 'no run has started probes yet';
  private step: StepProbes | undefined;
  private readonly server: http.Server;

  constructor(private readonly o: ProbeAgentOptions) {
    this.server = http.createServer((req, res) => { this.handle(req, res).catch((err: unknown) => reply(res, 500, { error: err instanceof Error ? err.message : String(err) })); });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port ?? probeAgentPort, this.o.host ?? '0.0.0.0', resolve);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await this.step?.stop().catch(() => undefined);
    await this.provider?.close().catch(() => undefined);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async open(profile: Profile): Promise<void> {
    if (this.provider !== undefined) return;
    this.provider = await this.o.openProvider(profile);
    this.providerReason = this.provider !== undefined ? this.provider.unavailableReason()
      : profile.probes.enabled ? `no probe provider could be opened on node ${this.o.node}` : 'the probes are off in the profile';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (req.headers[probeTokenHeader] !== this.o.token) {
      reply(res, 403, { error: `missing or wrong ${probeTokenHeader}` });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/open') {
      const body = await readJson(req) as { profile: Profile };
      await this.open(body.profile);
      reply(res, 200, { node: this.o.node, available: this.providerReason === null, reason: this.providerReason } satisfies ProbeAgentStatus);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/start') {
      const body = await readJson(req) as { profile: Profile; targets: ProbeAgentTarget[] };
      if (this.step !== undefined) { reply(res, 409, { error: 'a step is already being measured' }); return; }
      await this.open(body.profile);
      if (this.provider === undefined || this.providerReason !== null) {
        reply(res, 503, { error: `probes unavailable on node ${this.o.node}: ${this.providerReason ?? 'off'}` });
        return;
      }
      const { components, missing } = resolveTargets(this.o.cgroupRoot, this.o.node, body.targets);
      const step = this.provider.open(body.profile);
      await step.start(components);
      this.step = step;
      reply(res, 200, { started: components.map((c) => c.name), missing });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/stop') {
      const step = this.step;
      this.step = undefined;
      if (step === undefined) { reply(res, 409, { error: 'no step is being measured' }); return; }
      reply(res, 200, await step.stop() satisfies StepProbeResult);
      return;
    }
    reply(res, 404, { error: `no ${req.method} ${url.pathname}` });
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || '{}') as unknown;
}
