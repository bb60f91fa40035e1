import path from 'node:path';
import type { LoadResult } from '../../../workloads/loadResult';
import type { DataPlaneOptions } from '../../dataplanes/dataPlane';
import type { EchoControlPaths } from '../../echoStopLine';
import { haproxyVersion } from '../../dataplanes/proxyProcess';
import type { DataPlaneName, Profile } from '../../profile/profileSchema';
import { ebpfObjectsOfCgroup, ebpfObjectsSince, mergeEbpfObjects, ownBpfObjects } from '../../resources/bpfCost';
import { runLoadProcess } from '../../runner/loadProcess';
import { ebpfComponentName } from '../../results/resultTypes';
import type { DeployedDataPlane, LoadInvocation, MeasuredComponent, PlatformSession, Placement } from '../../runner/platformSession';
import { requireRoot } from './cluster';
import { EchoDeployment } from './echoDeployment';

/*
 * The netns platform as the runner sees it. Each deployment is a fresh emulated cluster (fabric, two nodes,
 * a client pod and an echo server pod) with one data plane installed: building one takes well under a
 * second, and a fresh cluster per data plane means no state (conntrack entries, iptables chains, BPF maps)
 * leaks from one data plane into the next one's measurement.
 */

type Cpus = { client?: string; server?: string; proxies?: string };

function pinning(profile: Profile): Cpus {
  const p = profile.cpuPinning;
  const out: Cpus = {};
  if (p?.client !== undefined) out.client = String(p.client);
  if (p?.server !== undefined) out.server = String(p.server);
  if (p?.proxies !== undefined) out.proxies = String(p.proxies);
  return out;
}

class NetnsDeployed implements DeployedDataPlane {
  constructor(
    readonly deployment: EchoDeployment,
    readonly dataplane: DataPlaneName,
    readonly placement: Placement,
    readonly components: readonly MeasuredComponent[],
    readonly ebpf: DeployedDataPlane['ebpf'],
  ) {}

  get targetUrl(): string {
    return this.deployment.targetUrl;
  }

  echoControlPaths(): EchoControlPaths | null | undefined {
    return this.deployment.controlPaths;
  }

  runLoad(invocation: LoadInvocation): Promise<LoadResult> {
    return runLoadProcess(this.deployment.clientPrefix(), invocation);
  }

  /**
   * Counted now, with one request on a fresh connection: a figure of the repetition that asks, never the
   * deployment's first count copied (proxies' pooled idle connections from the load are not on the chain).
   */
  async connectionsOnPath(): Promise<number | null> {
    return (await this.deployment.checkPath(1)).connectionsOnPath;
  }
}

class NetnsPlatformSession implements PlatformSession {
  readonly name = 'netns';
  private readonly live = new Set<NetnsDeployed>();

  constructor(private readonly profile: Profile) {}

  async deploy(dataplane: DataPlaneName, placement: Placement, profile: Profile): Promise<DeployedDataPlane> {
    const dataPlaneOptions: Partial<DataPlaneOptions> = { proxy: profile.proxy.kind, workers: profile.proxy.workers, mtls: profile.proxy.mtls };
    // BPF objects this process holds before the data plane exists (the probes' own) are not its cost.
    const before = ownBpfObjects();
    // The echo server's default controls (workload.serverControls; a calibration variant's known work).
    const serverArgs = profile.workload.serverControls === '' ? [] : ['--controls', profile.workload.serverControls];
    const deployment = await EchoDeployment.create({ dataplane, placement, dataPlaneOptions, cpus: pinning(profile), protocol: profile.workload.protocol, serverArgs });
    try {
      // The client's cgroup exists from here on, before the load client starts, so it is measured from its first event.
      deployment.clientPrefix();
      const components = deployment.measuredComponents();
      const runCgroup = components.find((c) => c.v2Path !== null)?.v2Path;
      const ebpf = mergeEbpfObjects(ebpfObjectsSince(before), runCgroup === undefined || runCgroup === null ? null : ebpfObjectsOfCgroup(path.dirname(runCgroup)));
      // One request on a fresh connection through the data plane: proves the path works before measuring it.
      await deployment.checkPath(1);
      const all = ebpf === null ? components : [...components, { name: ebpfComponentName, role: 'dataplane' as const, node: null, cgroupId: null, v2Path: null }];
      const d = new NetnsDeployed(deployment, dataplane, placement, all, ebpf);
      this.live.add(d);
      return d;
    } catch (err) {
      await deployment.destroy().catch(() => undefined);
      throw err;
    }
  }

  async remove(deployed: DeployedDataPlane): Promise<void> {
    const d = [...this.live].find((x) => x === deployed);
    if (d === undefined) return;
    this.live.delete(d);
    await d.deployment.destroy();
  }

  async versions(): Promise<Record<string, string>> {
    const v: Record<string, string> = { platform: 'netns' };
    if (this.profile.dataplanes.some((d) => d !== 'baseline' && d !== 'kernel')) {
      v.haproxy = await haproxyVersion().catch(() => 'unavailable');
    }
    return v;
  }

  async close(): Promise<void> {
    const errors: string[] = [];
    for (const d of [...this.live]) {
      this.live.delete(d);
      await d.deployment.destroy().catch((err: unknown) => { errors.push(err instanceof Error ? err.message : String(err)); });
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
  }
}

/** The netns platform for a run: needs root; creates nothing until the first deploy. */
export async function openNetnsPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  void runId; // clusters get their own short ids (namespace names are length-limited)
  requireRoot();
  return new NetnsPlatformSession(profile);
}
