import path from 'node:path';
import { defaultDataPlaneOptions, type DataPlane, type DataPlaneOptions } from '../../dataplanes/dataPlane';
import { createDataPlane } from '../../dataplanes/dataPlaneFactory';
import { EnvironmentError, MeshbenchError } from '../../errors';
import type { DataPlaneName, WorkloadProtocol } from '../../profile/profileSchema';
import { parseEchoControlPaths, type EchoControlPaths } from '../../echoStopLine';
import { echoProtocolArgs, protocolTargetUrl } from '../workloadProtocol';
import { ownPerfMap, perfMapNodeFlag, removePerfMap } from '../../probes/userSymbols';
import { realtimeSafeNodeFlag } from '../../../workloads/realtimeWait';
import { cliScript } from '../../runner/loadProcess';
import type { MeasuredComponent, Placement } from '../../runner/platformSession';
import type { PodPlan } from './addressPlan';
import { Cluster, type ClusterProcess, type ServicePlan } from './cluster';
import { inspectPath, type PathReport } from './pathInspector';

/*
 * The benchmark scenario on the netns platform: a client pod and an echo server pod (same node or
 * different nodes), a service `echo` (VIP port 80 → 8080), and one data plane installed and enrolling both.
 */

/**
 * Pure: where the data plane's proxies are pinned: `proxies` a CPU list for every proxy, or `workload` for each
 * sidecar proxy on its own pod's workload CPUs (the client pod's and the server pod's, where those are pinned).
 */
export function proxyPinning(cpus: EchoDeploymentOptions['cpus']): Pick<DataPlaneOptions, 'proxyCpus' | 'proxyCpusByPod'> {
  if (cpus?.proxies === undefined) return {};
  if (cpus.proxies !== 'workload') return { proxyCpus: cpus.proxies };
  const byPod: Record<string, string> = {};
  if (cpus.client !== undefined) byPod.client = cpus.client;
  if (cpus.server !== undefined) byPod.server = cpus.server;
  return { proxyCpusByPod: byPod };
}

export interface EchoDeploymentOptions {
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  readonly dataPlaneOptions?: Partial<DataPlaneOptions>;
  /** taskset CPU lists; `proxies: 'workload'`: each sidecar proxy with its pod's workload (proxyPinning). */
  readonly cpus?: { readonly client?: string; readonly server?: string; readonly proxies?: string };
  /** Extra flags for `meshbench echo` (e.g. --delay 1ms). */
  readonly serverArgs?: readonly string[];
  /** What the echo server, the data plane's L7 hops and the path check speak (default http, HTTP/1.1). */
  readonly protocol?: WorkloadProtocol;
  readonly nodes?: number;
  readonly stateDir?: string;
}

/** How long destroy() waits for the echo server's stop line after SIGTERM (it closes its sockets and prints it within ms); the cluster's removal kills it after. */
const echoStopWaitMs = 3000;

export const servicePort = 80;
export const serverPort = 8080;

export interface PathCheck extends PathReport {
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  readonly expectedConnections: number;
  readonly requests: number;
  readonly statuses: readonly number[];
  readonly elapsedUs: number;
  readonly path: string;
  /** The data plane's own counters after the requests, where it has any. */
  readonly dataPlaneCounters?: Record<string, number>;
}

export class EchoDeployment {
  /** The echo server's pid, whose perf map destroy() removes. */
  private echoPid: number | undefined;
  /** The echo server, stopped with SIGTERM in destroy() so that it prints its stop line. */
  private echo: ClusterProcess | undefined;
  /**
   * After destroy(): which mechanism the echo server's `connects`, `switches` and `copies` controls used, read from its
   * stop line (echoStopLine.ts); null when it printed none (it did not stop within the wait); undefined before.
   */
  controlPaths: EchoControlPaths | null | undefined;

  private constructor(
    readonly cluster: Cluster,
    readonly dataPlane: DataPlane,
    readonly service: ServicePlan,
    readonly client: PodPlan,
    readonly server: PodPlan,
    readonly placement: Placement,
    private readonly cpus: EchoDeploymentOptions['cpus'],
    readonly protocol: WorkloadProtocol,
  ) {}

  static async create(options: EchoDeploymentOptions): Promise<EchoDeployment> {
    const protocol = options.protocol ?? 'http';
    const dpOptions: DataPlaneOptions = {
      ...defaultDataPlaneOptions,
      ...options.dataPlaneOptions,
      protocol,
      ...proxyPinning(options.cpus),
    };
    const dataPlane = createDataPlane(options.dataplane, dpOptions);
    const serverNode = options.placement === 'same-node' ? 'node1' : 'node2';
    const cluster = await Cluster.create({
      nodes: options.nodes ?? 2,
      pods: [{ name: 'client', node: 'node1' }, { name: 'server', node: serverNode }],
      ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
    });
    let echoPid: number | undefined;
    try {
      const client = cluster.pod('client');
      const server = cluster.pod('server');
      const service = await cluster.addService('echo', servicePort, serverPort, ['server']);
      await dataPlane.install({ cluster, services: [service] });
      // Enrolled before the apps start, as an init container would.
      await dataPlane.enrol(client);
      await dataPlane.enrol(server);
      const echo = cluster.start({
        component: 'server', role: 'server', node: server.node, netns: server.netns,
        ...(options.cpus?.server === undefined ? {} : { cpus: options.cpus.server }),
        // Without V8's memory reducer (as the load client, realtimeWait.ts): it starts an idle-time mark-compact 8 s
        // after start, inside the window of any profile with a few seconds of warm-up (measured in a calibration run
        // with warmup 5s: the echo server's GC frames 1 → 15–20 µs/request, both sides), noise no request caused.
        argv: [process.execPath, perfMapNodeFlag, realtimeSafeNodeFlag, cliScript, 'echo', '--host', server.ip, '--port', String(serverPort),
          ...echoProtocolArgs(protocol), ...(options.serverArgs ?? [])],
      });
      // Its perf map names the server's JS frames; removed in destroy() (or below, or at exit).
      echoPid = echo.pid;
      ownPerfMap(echo.pid);
      await cluster.waitListening(echo, serverPort);
      const deployment = new EchoDeployment(cluster, dataPlane, service, client, server, options.placement, options.cpus, protocol);
      deployment.echoPid = echo.pid;
      deployment.echo = echo;
      return deployment;
    } catch (err) {
      // What the data plane holds in this process (the eBPF data planes' loaded object) goes with the cluster.
      await dataPlane.uninstall().catch(() => undefined);
      await cluster.destroy().catch(() => undefined);
      if (echoPid !== undefined) removePerfMap(echoPid);
      throw err;
    }
  }

  /** The service address in the load client's scheme for the deployment's protocol (h2c://, grpc://…). */
  get targetUrl(): string {
    return protocolTargetUrl(this.protocol, `${this.service.vip}:${this.service.port}`);
  }

  /** argv prefix running a command in the client pod and the client cgroup (for the load client). */
  clientPrefix(): string[] {
    return this.cluster.commandPrefix({
      component: 'client', role: 'client', node: this.client.node, netns: this.client.netns,
      ...(this.cpus?.client === undefined ? {} : { cpus: this.cpus.client }),
    });
  }

  /** Starts a process in the client pod (client cgroup). */
  startInClient(argv: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): ClusterProcess {
    return this.cluster.start({
      component: 'client', role: 'client', node: this.client.node, netns: this.client.netns, argv, stdin,
      ...(this.cpus?.client === undefined ? {} : { cpus: this.cpus.client }),
    });
  }

  measuredComponents(): MeasuredComponent[] {
    return this.cluster.componentList().map((c) => ({
      name: c.name, role: c.role, node: c.node, cgroupId: c.cgroup.id.toString(), v2Path: c.cgroup.v2Path,
      ...(c.cgroup.v1Paths.memory === undefined ? {} : { memoryV1Path: c.cgroup.v1Paths.memory }),
    }));
  }

  /**
   * Sends `requests` requests on one kept-alive connection from the client pod, and while that connection
   * is held open counts the connections established between components: the request path.
   */
  async checkPath(requests = 3): Promise<PathCheck> {
    const proc = this.startInClient([process.execPath, path.join(__dirname, 'holdClient.js'), this.service.vip, String(this.service.port), String(requests), this.protocol], 'pipe');
    try {
      const line = await waitForLine(proc, 15_000);
      const reply = JSON.parse(line) as { statuses?: number[]; elapsedUs?: number; error?: string };
      if (reply.error !== undefined) throw new MeshbenchError(`requests through ${this.dataPlane.name} failed: ${reply.error}`, { hint: 'the path is broken; see meshbench cluster check --json' });
      // Let the last hops settle (a proxy may finish its server-side handshake just after relaying).
      await new Promise((r) => setTimeout(r, 50));
      const report = inspectPath(this.cluster, 'client');
      const counters = await this.dataPlane.counters?.();
      return {
        ...report,
        dataplane: this.dataPlane.name,
        placement: this.placement,
        expectedConnections: this.dataPlane.connectionsPerRequest,
        requests,
        statuses: reply.statuses ?? [],
        elapsedUs: reply.elapsedUs ?? 0,
        path: this.dataPlane.pathDescription,
        ...(counters === undefined ? {} : { dataPlaneCounters: counters }),
      };
    } finally {
      proc.child.stdin?.end();
      await waitExit(proc, 2000);
    }
  }

  async destroy(): Promise<void> {
    if (this.controlPaths === undefined && this.echo !== undefined) {
      // SIGTERM, not the cgroup's SIGKILL: the echo then prints its stop line, which names its control paths.
      const echo = this.echo;
      if (!echo.exited()) echo.child.kill('SIGTERM');
      const deadline = Date.now() + echoStopWaitMs;
      while (parseEchoControlPaths(echo.output()) === null && !echo.exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      this.controlPaths = parseEchoControlPaths(echo.output());
    }
    try {
      await this.dataPlane.uninstall();
    } finally {
      await this.cluster.destroy();
      if (this.echoPid !== undefined) removePerfMap(this.echoPid);
    }
  }
}

function waitForLine(proc: ClusterProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new EnvironmentError('the check client did not answer in time')), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(undefined, buf.slice(0, nl));
    };
    const onExit = (): void => done(new EnvironmentError(`the check client exited: ${proc.output().trim().split('\n').pop() ?? ''}`));
    const done = (err?: Error, line?: string): void => {
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      proc.child.off('exit', onExit);
      if (err !== undefined) reject(err);
      else resolve(line ?? '');
    };
    proc.child.stdout?.on('data', onData);
    proc.child.on('exit', onExit);
  });
}

function waitExit(proc: ClusterProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exited()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => { proc.child.kill('SIGKILL'); resolve(); }, timeoutMs);
    proc.child.once('exit', () => { clearTimeout(timer); resolve(); });
  });
}
