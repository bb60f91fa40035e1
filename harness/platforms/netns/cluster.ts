import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CgroupTree, detectCgroupLayout, meshbenchCgroupName, type Cgroup } from '../../cgroupTree';
import { EnvironmentError, MeshbenchError, NotRootError } from '../../errors';
import type { ComponentRole } from '../../results/resultTypes';
import {
  fabricBatch, fabricNetns, maxNodes, nodeBatch, nodeIndexOf, nodePlan, podBatch, podHostBatch, podPlan, serviceVip,
  validateRunId, type NodeName, type NodePlan, type PodPlan,
} from './addressPlan';
import { inNetns, ipBatch, run } from './exec';
import { serviceChainRules } from './kubeProxy';
import { claimState, defaultStateDir, removeState, writeState, type ClusterState } from './stateFile';
import { netnsInode, readListeningPorts } from './procNet';

/*
 * The netns platform: a small cluster made of network namespaces. A fabric namespace holds a bridge; each
 * node is a namespace with one leg on the bridge; each pod is a namespace with a veth to its node (routed pod
 * networking: /32 per pod, node-to-node routes for pod CIDRs, no overlay). Services get a virtual IP that
 * the nodes translate with DNAT, as kube-proxy does in iptables mode. Every process runs in a namespace and
 * in its own cgroup (meshbench/run-<id>/<component>), entered before the process does anything.
 */

export interface PodSpec {
  readonly name: string;
  readonly node: NodeName;
}

export interface ClusterOptions {
  readonly nodes?: number;
  readonly pods?: readonly PodSpec[];
  readonly runId?: string;
  readonly stateDir?: string;
  /** Configs, certificates, logs of this run (removed with the cluster). */
  readonly workRoot?: string;
  readonly cgroups?: CgroupTree;
}

export interface ServicePlan {
  readonly name: string;
  readonly index: number;
  readonly vip: string;
  readonly port: number;
  readonly targetPort: number;
  readonly endpoints: readonly PodPlan[];
}

export interface ComponentRecord {
  readonly name: string;
  readonly role: ComponentRole;
  readonly node: NodeName | null;
  readonly netns: string;
  readonly cgroup: Cgroup;
}

export interface StartOptions {
  /** Component name; the cgroup is run-<id>/<component>. Several processes may share a component. */
  readonly component: string;
  readonly role: ComponentRole;
  readonly node: NodeName | null;
  readonly netns: string;
  readonly argv: readonly string[];
  /** Run as this uid/gid (proxies: so iptables can exclude their own traffic by owner). */
  readonly uid?: number;
  /** taskset CPU list. */
  readonly cpus?: string;
  readonly stdin?: 'ignore' | 'pipe';
}

export interface ClusterProcess {
  readonly component: string;
  readonly netns: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Output the process wrote (tail), for error messages. */
  output(): string;
  exited(): boolean;
}

export const proxyUid = 1337;

export function newRunId(): string {
  return crypto.randomBytes(3).toString('hex');
}

export class Cluster {
  readonly runId: string;
  readonly nodes: readonly NodePlan[];
  readonly workDir: string;
  readonly cgroupName: string;
  private readonly pods = new Map<string, PodPlan>();
  private readonly services = new Map<string, ServicePlan>();
  private readonly components = new Map<string, ComponentRecord>();
  private readonly processes: ClusterProcess[] = [];
  private readonly cgroups: CgroupTree;
  private readonly stateDir: string;
  private readonly state: ClusterState;
  private destroyed = false;
  private created = false;

  private constructor(options: ClusterOptions) {
    this.runId = validateRunId(options.runId ?? newRunId());
    const nodeCount = options.nodes ?? 2;
    if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > maxNodes) throw new EnvironmentError(`a cluster has 1..${maxNodes} nodes, not ${nodeCount}`);
    this.nodes = Array.from({ length: nodeCount }, (_, i) => nodePlan(this.runId, i + 1));
    this.stateDir = options.stateDir ?? defaultStateDir;
    this.workDir = path.join(options.workRoot ?? this.stateDir, `run-${this.runId}`);
    this.cgroupName = `run-${this.runId}`;
    this.cgroups = options.cgroups ?? new CgroupTree();
    this.state = {
      runId: this.runId, pid: process.pid, startedAt: new Date().toISOString(), namespaces: [], cgroup: this.cgroupName,
      workDir: this.workDir, bpfPins: [],
    };
  }

  /** Builds the fabric, the nodes and the given pods. On failure everything created so far is removed. */
  static async create(options: ClusterOptions = {}): Promise<Cluster> {
    requireRoot();
    const cluster = new Cluster(options);
    claimState(cluster.state, cluster.stateDir);
    try {
      await cluster.build(options.pods ?? []);
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  private async build(pods: readonly PodSpec[]): Promise<void> {
    fs.mkdirSync(this.workDir, { recursive: true, mode: 0o755 });
    const fabric = fabricNetns(this.runId);
    const podPlans = this.planPods(pods);
    this.recordNamespaces([fabric, ...this.nodes.map((n) => n.netns), ...podPlans.map((p) => p.netns)]);
    await ipBatch(undefined, [fabric, ...this.nodes.map((n) => n.netns)].map((ns) => `netns add ${ns}`));
    // Veths are created inside the fabric namespace with their peer placed straight into the node: nothing
    // ever appears in the root namespace.
    await ipBatch(fabric, [
      ...this.nodes.map((n) => `link add ${n.fabricVeth} type veth peer name eth0 netns ${n.netns}`),
      ...fabricBatch(this.nodes),
    ]);
    await Promise.all(this.nodes.map(async (n) => {
      await ipBatch(n.netns, nodeBatch(n, this.nodes));
      await run(inNetns(n.netns, ['sh', '-c', [
        'echo 1 > /proc/sys/net/ipv4/ip_forward',
        'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter',
        'echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter',
        'iptables-restore --noflush',
      ].join(' && ')]), nodeIptablesBase());
    }));
    await this.attachPods(podPlans);
    this.created = true;
  }

  /** Adds pods to a running cluster (a waypoint, more servers). */
  async addPods(pods: readonly PodSpec[]): Promise<PodPlan[]> {
    this.assertUsable();
    const plans = this.planPods(pods);
    this.recordNamespaces(plans.map((p) => p.netns));
    await this.attachPods(plans);
    return plans;
  }

  private planPods(pods: readonly PodSpec[]): PodPlan[] {
    const plans: PodPlan[] = [];
    const slots = new Map<string, number>();
    for (const p of this.pods.values()) slots.set(p.node, (slots.get(p.node) ?? 0) + 1);
    for (const spec of pods) {
      if (this.pods.has(spec.name) || plans.some((p) => p.name === spec.name)) throw new EnvironmentError(`pod ${spec.name} exists already`);
      const node = this.node(spec.node);
      const slot = slots.get(node.name) ?? 0;
      slots.set(node.name, slot + 1);
      plans.push(podPlan(this.runId, spec.name, node, slot));
    }
    return plans;
  }

  private async attachPods(plans: readonly PodPlan[]): Promise<void> {
    if (plans.length === 0) return;
    await ipBatch(undefined, plans.map((p) => `netns add ${p.netns}`));
    await Promise.all(this.nodes.map(async (n) => {
      const mine = plans.filter((p) => p.node === n.name);
      if (mine.length === 0) return;
      await ipBatch(n.netns, [
        ...mine.map((p) => `link add ${p.hostVeth} type veth peer name eth0 netns ${p.netns}`),
        ...mine.flatMap((p) => podHostBatch(p, n)),
      ]);
      await Promise.all(mine.map((p) => ipBatch(p.netns, podBatch(p, n))));
    }));
    for (const p of plans) this.pods.set(p.name, p);
  }

  /** A service address DNATed to the endpoints in every node (random choice among endpoints, as kube-proxy). */
  async addService(name: string, port: number, targetPort: number, endpointPods: readonly string[]): Promise<ServicePlan> {
    this.assertUsable();
    if (this.services.has(name)) throw new EnvironmentError(`service ${name} exists already`);
    const service: ServicePlan = {
      name, index: this.services.size, vip: serviceVip(this.services.size), port, targetPort,
      endpoints: endpointPods.map((p) => this.pod(p)),
    };
    await Promise.all(this.nodes.map((n) => this.iptables(n.netns, serviceChainRules(service))));
    this.services.set(name, service);
    return service;
  }

  /** Applies iptables-restore input (with --noflush) inside a namespace. */
  async iptables(netns: string, restoreInput: string): Promise<void> {
    await run(inNetns(netns, ['iptables-restore', '--noflush']), restoreInput);
  }

  node(name: string): NodePlan {
    const n = this.nodes[nodeIndexOf(name) - 1];
    if (n === undefined) throw new EnvironmentError(`the cluster has no ${name}`);
    return n;
  }

  pod(name: string): PodPlan {
    const p = this.pods.get(name);
    if (p === undefined) throw new EnvironmentError(`the cluster has no pod ${name}`);
    return p;
  }

  service(name: string): ServicePlan {
    const s = this.services.get(name);
    if (s === undefined) throw new EnvironmentError(`the cluster has no service ${name}`);
    return s;
  }

  allPods(): PodPlan[] {
    return [...this.pods.values()];
  }

  allNamespaces(): string[] {
    return [...this.state.namespaces];
  }

  componentList(): ComponentRecord[] {
    return [...this.components.values()];
  }

  liveProcesses(): ClusterProcess[] {
    return this.processes.filter((p) => !p.exited());
  }

  /** Creates (or returns) a component's cgroup. */
  component(name: string, role: ComponentRole, node: NodeName | null, netns: string): ComponentRecord {
    const existing = this.components.get(name);
    if (existing !== undefined) return existing;
    const record: ComponentRecord = { name, role, node, netns, cgroup: this.cgroups.create(`${this.cgroupName}/${name}`) };
    this.components.set(name, record);
    return record;
  }

  /**
   * The cgroup of a pod's application (run-<id>/<pod>), made ahead of the app so a data plane can attach to it
   * at enrolment, as an init container would; the app's component record is made when the app starts.
   */
  podCgroup(podName: string): Cgroup {
    return this.cgroups.create(`${this.cgroupName}/${this.pod(podName).name}`);
  }

  /** This run's folder in the cgroup v2 tree: everything meshbench may attach BPF programs to is below it. */
  get runCgroupV2Path(): string {
    return path.join(this.cgroups.root, this.cgroupName);
  }

  /** Records a bpffs pin for cleanup before it is created. */
  recordBpfPin(pin: string): void {
    if (!this.state.bpfPins.includes(pin)) this.state.bpfPins.push(pin);
    writeState(this.state, this.stateDir);
  }

  /**
   * The argv prefix that runs a command inside a namespace and a component's cgroup (for runLoadProcess and
   * start): a small shell enters the cgroup (v2 and v1) and then execs nsenter → setpriv → taskset → the
   * command, all in the same pid, so not one event of the process happens outside its cgroup.
   */
  commandPrefix(options: Omit<StartOptions, 'argv' | 'stdin'>): string[] {
    const record = this.component(options.component, options.role, options.node, options.netns);
    const procsFiles = [record.cgroup.v2Path, ...new Set(Object.values(record.cgroup.v1Paths))].map((p) => path.join(p, 'cgroup.procs'));
    const enter = procsFiles.map((f) => `echo $$ > ${f}`).join(' && ');
    return [
      'sh', '-c', `${enter} && exec "$@"`, 'sh',
      ...inNetns(options.netns, []),
      ...(options.uid === undefined ? [] : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', '--']),
      ...(options.cpus === undefined ? [] : ['taskset', '-c', options.cpus]),
    ];
  }

  /**
   * Starts a process inside a namespace and its component's cgroup. A small shell enters the cgroup (v2
   * and v1) and then execs nsenter → setpriv → taskset → the command, all in the same pid, so not one event
   * of the process happens outside its cgroup.
   */
  start(options: StartOptions): ClusterProcess {
    this.assertUsable();
    const argv = [...this.commandPrefix(options), ...options.argv];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer): void => { tail = `${tail}${d.toString()}`.slice(-4000); };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    child.on('exit', () => { exited = true; });
    child.on('error', (err) => { exited = true; tail += `\n${err.message}`; });
    if (child.pid === undefined) throw new EnvironmentError(`could not start ${options.argv[0] ?? ''} in ${options.netns}`);
    const proc: ClusterProcess = {
      component: options.component, netns: options.netns, pid: child.pid, child,
      output: () => tail, exited: () => exited,
    };
    this.processes.push(proc);
    return proc;
  }

  /** Resolves once the process listens on the port inside its namespace; fails if it exits first. */
  async waitListening(proc: ClusterProcess, port: number, timeoutMs = 10_000): Promise<void> {
    const nsInode = netnsInode(`/run/netns/${proc.netns}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (proc.exited()) {
        throw new EnvironmentError(`${proc.component} exited while starting: ${lastLine(proc.output())}`);
      }
      // Only trust the listening table once the process is in the namespace (the wrapper starts outside).
      if (netnsInode(`/proc/${proc.pid}/ns/net`) === nsInode && readListeningPorts(proc.pid).has(port)) return;
      if (Date.now() > deadline) throw new EnvironmentError(`${proc.component} did not listen on port ${port} within ${timeoutMs} ms: ${lastLine(proc.output())}`);
      await sleep(5);
    }
  }

  /** Stops the processes of one component (a data plane's uninstall). */
  async stopComponent(name: string): Promise<void> {
    const record = this.components.get(name);
    if (record === undefined) return;
    this.cgroups.remove(record.cgroup.name);
    this.components.delete(name);
  }

  /** Removes everything the cluster created. Safe to call twice and after a failed create. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const errors: string[] = [];
    const attempt = async (what: string, f: () => unknown): Promise<void> => {
      try {
        await f();
      } catch (err) {
        errors.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    await attempt('processes and cgroups', () => this.cgroups.remove(this.cgroupName));
    for (const p of this.processes) if (!p.exited()) p.child.kill('SIGKILL');
    await attempt('bpf pins', () => { for (const pin of this.state.bpfPins) fs.rmSync(pin, { force: true, recursive: true }); });
    await attempt('namespaces', () => removeNamespaces(this.state.namespaces));
    await attempt('work folder', () => fs.rmSync(this.workDir, { recursive: true, force: true }));
    removeEmptyMeshbenchRoots();
    if (errors.length > 0) throw new MeshbenchError(`cluster ${this.runId} was not fully removed: ${errors.join('; ')}`, { hint: 'run meshbench cleanup' });
    removeState(this.stateDir);
  }

  get isCreated(): boolean {
    return this.created && !this.destroyed;
  }

  private recordNamespaces(names: readonly string[]): void {
    for (const n of names) if (!this.state.namespaces.includes(n)) this.state.namespaces.push(n);
    writeState(this.state, this.stateDir);
  }

  private assertUsable(): void {
    if (this.destroyed) throw new MeshbenchError(`cluster ${this.runId} was destroyed`);
  }
}

/** The nat chains every node starts with: MB-MESH (data-plane redirects) is consulted before MB-SERVICES (kube-proxy). */
function nodeIptablesBase(): string {
  return [
    '*nat',
    ':MB-MESH - [0:0]',
    ':MB-SERVICES - [0:0]',
    '-A PREROUTING -j MB-MESH',
    '-A PREROUTING -j MB-SERVICES',
    '-A OUTPUT -j MB-SERVICES',
    'COMMIT',
    '',
  ].join('\n');
}

/** Deletes namespaces that exist (each `ip netns del` also removes the veths inside). */
export async function removeNamespaces(names: readonly string[]): Promise<void> {
  const present = new Set(listNetns());
  const mine = names.filter((n) => present.has(n));
  if (mine.length === 0) return;
  // Kill anything still running inside (processes not in a meshbench cgroup, e.g. after kill -9 mid-start).
  for (const ns of mine) killNetnsPids(ns);
  await ipBatch(undefined, mine.map((n) => `netns del ${n}`), true).catch(() => undefined);
  const left = listNetns().filter((n) => mine.includes(n));
  if (left.length > 0) throw new EnvironmentError(`namespaces ${left.join(', ')} could not be removed`);
}

export function listNetns(): string[] {
  try {
    return fs.readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Pids whose network namespace is the named one (what `ip netns pids` does, without a process). */
export function netnsPids(netns: string): number[] {
  const inode = netnsInode(`/run/netns/${netns}`);
  if (inode === undefined) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (netnsInode(`/proc/${entry}/ns/net`) === inode) pids.push(Number(entry));
  }
  return pids;
}

function killNetnsPids(netns: string): void {
  for (const pid of netnsPids(netns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** rmdir of the meshbench cgroup roots once nothing is left in them (other users' runs keep them). */
export function removeEmptyMeshbenchRoots(): void {
  let layout;
  try {
    layout = detectCgroupLayout();
  } catch {
    return;
  }
  for (const mount of new Set([layout.v2Mount, ...Object.values(layout.v1Mounts)])) {
    try {
      fs.rmdirSync(path.join(mount, meshbenchCgroupName));
    } catch {
      // not empty or not there
    }
  }
}

export function requireRoot(): void {
  if (process.platform !== 'linux') throw new EnvironmentError('the netns platform needs Linux');
  if (process.getuid !== undefined && process.getuid() !== 0) throw new NotRootError('the netns platform creates network namespaces');
}

function lastLine(s: string): string {
  return s.trim().split('\n').slice(-2).join(' / ') || 'no output';
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
