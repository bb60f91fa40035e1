import type { PacketRow } from './probeRecord';
import type { RecordPart } from './probeDefinition';
import type { ResolvedTarget } from './probeTargets';
import {
  netnsOf, readCgroupProcs, readCgroupThreads, readNetDev, readSnmp, readTask,
  type DeviceCounters, type TaskCounters,
} from './kernelCounters';

/*
 * The lean hook set's kernel-counter sources: each reads, at begin() and end(), counters the kernel keeps
 * exactly anyway, so no program runs per event. A source that cannot read a target (no cgroup directory, or
 * the host's network namespace, whose counters would count the whole machine) says why, and the probe then
 * attaches its eBPF hooks for that session instead.
 */

/** A kernel-counter source for one measurement at a time. */
export interface CounterSource {
  readonly name: string;
  /** null when every target can be read, else why not (one line). */
  unusable(targets: readonly ResolvedTarget[]): string | null;
  /** Snapshots the counters. */
  begin(targets: readonly ResolvedTarget[]): void;
  /** Snapshots again; the differences per cgroup id. */
  end(): Map<string, RecordPart>;
}

interface Namespace {
  readonly inode: number;
  /** Targets living in it, in registration order; the first owns the namespace's counters. */
  readonly members: ResolvedTarget[];
  readonly pid: number;
}

/** The private network namespace of a target (inode and one pid in it), null for the host's or none. */
export function targetNamespace(t: ResolvedTarget): { inode: number; pid: number } | null {
  if (t.v2Path === null) return null;
  const host = netnsOf(1) ?? netnsOf('self');
  for (const pid of readCgroupProcs(t.v2Path) ?? []) {
    const inode = netnsOf(pid);
    if (inode !== null) return inode === host ? null : { inode, pid };
  }
  return null;
}

function namespaceReason(targets: readonly ResolvedTarget[]): string | null {
  for (const t of targets) {
    if (t.v2Path === null) return `component ${t.name} has no cgroup directory to find its network namespace`;
    // A cgroup with no process yet has no namespace to read: it is reported as such, not counted as the host's.
    if ((readCgroupProcs(t.v2Path) ?? []).length === 0) continue;
    if (targetNamespace(t) === null) return `component ${t.name} is not in a private network namespace (the host's counters would count the whole machine)`;
  }
  return null;
}

function groupByNamespace(targets: readonly ResolvedTarget[]): Namespace[] {
  const byInode = new Map<number, Namespace>();
  for (const t of targets) {
    const ns = targetNamespace(t);
    if (ns === null) continue;
    const known = byInode.get(ns.inode);
    if (known === undefined) byInode.set(ns.inode, { inode: ns.inode, members: [t], pid: ns.pid });
    else known.members.push(t);
  }
  return [...byInode.values()];
}

/** A live pid in the namespace at the end: the one from the start, else any member process still in it. */
function livePid(ns: Namespace): number | null {
  if (netnsOf(ns.pid) === ns.inode) return ns.pid;
  for (const t of ns.members) {
    for (const pid of readCgroupProcs(t.v2Path as string) ?? []) if (netnsOf(pid) === ns.inode) return pid;
  }
  return null;
}

/** Per-namespace counters read at both edges, owned by the namespace's first registered component. */
abstract class NamespaceSource<T> implements CounterSource {
  abstract readonly name: string;
  protected abstract readonly fields: readonly string[];
  private spaces: Array<{ ns: Namespace; before: T | null }> = [];
  private homeless: ResolvedTarget[] = [];

  protected abstract read(pid: number): T | null;
  protected abstract diff(before: T, after: T, ns: Namespace): RecordPart;

  unusable(targets: readonly ResolvedTarget[]): string | null {
    return namespaceReason(targets);
  }

  begin(targets: readonly ResolvedTarget[]): void {
    const spaces = groupByNamespace(targets);
    this.spaces = spaces.map((ns) => ({ ns, before: this.read(ns.pid) }));
    this.homeless = targets.filter((t) => !spaces.some((ns) => ns.members.includes(t)));
  }

  private nulls(why: string): RecordPart {
    return { ...Object.fromEntries(this.fields.map((f) => [f, null])), unmeasured: Object.fromEntries(this.fields.map((f) => [f, why])) };
  }

  end(): Map<string, RecordPart> {
    const out = new Map<string, RecordPart>();
    for (const { ns, before } of this.spaces) {
      const [owner, ...others] = ns.members as [ResolvedTarget, ...ResolvedTarget[]];
      const pid = livePid(ns);
      const after = pid === null ? null : this.read(pid);
      if (before === null || after === null) out.set(owner.cgroupId.toString(), this.nulls('every process of its network namespace exited before the window closed'));
      else out.set(owner.cgroupId.toString(), this.diff(before, after, ns));
      for (const o of others) out.set(o.cgroupId.toString(), this.nulls(`counted on ${owner.name}, the first component of the same network namespace`));
    }
    // No process when the window began, so no namespace to read; its traffic shows on its namespace's owner if
    // that is registered too (a load client started after the probes, next to its server).
    for (const t of this.homeless) out.set(t.cgroupId.toString(), this.nulls('no process in its cgroup when the window began, so no network namespace to read'));
    this.spaces = [];
    this.homeless = [];
    return out;
  }
}

/** Packets and bytes per device: /proc/<pid>/net/dev of each namespace, replacing net_dev_start_xmit and netif_receive_skb. */
export class NetDeviceSource extends NamespaceSource<DeviceCounters[]> {
  readonly name = 'netns device counters';
  protected readonly fields = ['packets'];

  protected read(pid: number): DeviceCounters[] | null {
    return readNetDev(pid);
  }

  protected diff(before: DeviceCounters[], after: DeviceCounters[], ns: Namespace): RecordPart {
    return { packets: deviceRows(before, after, ns.inode), sources: { packets: 'device counters of the component\'s network namespace (/proc/<pid>/net/dev): every packet through its devices' } };
  }
}

/** Rows of packets and bytes per device and direction between two readings (a device created in between starts at 0). */
export function deviceRows(before: readonly DeviceCounters[], after: readonly DeviceCounters[], netns: number): PacketRow[] {
  const start = new Map(before.map((d) => [d.device, d]));
  const rows: PacketRow[] = [];
  for (const d of after) {
    const b = start.get(d.device);
    // A device deleted and re-created under the same name restarts at 0: count it since its creation.
    const base = b === undefined || d.txPackets < b.txPackets || d.rxPackets < b.rxPackets ? null : b;
    const tx = d.txPackets - (base?.txPackets ?? 0);
    const rx = d.rxPackets - (base?.rxPackets ?? 0);
    if (tx > 0) rows.push({ device: d.device, netns, direction: 'tx', packets: tx, bytes: d.txBytes - (base?.txBytes ?? 0) });
    if (rx > 0) rows.push({ device: d.device, netns, direction: 'rx', packets: rx, bytes: d.rxBytes - (base?.rxBytes ?? 0) });
  }
  return rows.sort((a, b) => a.device.localeCompare(b.device) || a.direction.localeCompare(b.direction));
}

/** Retransmitted segments and RSTs sent: the Tcp MIB of each namespace, replacing tcp_retransmit_skb and tcp_send_reset. */
export class TcpSnmpSource extends NamespaceSource<Map<string, number>> {
  readonly name = 'netns TCP MIB';
  protected readonly fields = ['retransmits', 'resetsSent'];

  protected read(pid: number): Map<string, number> | null {
    const m = readSnmp(pid);
    return m !== null && m.has('Tcp.RetransSegs') && m.has('Tcp.OutRsts') ? m : null;
  }

  protected diff(before: Map<string, number>, after: Map<string, number>): RecordPart {
    const d = (k: string): number => (after.get(k) as number) - (before.get(k) as number);
    return {
      retransmits: d('Tcp.RetransSegs'),
      resetsSent: d('Tcp.OutRsts'),
      sources: {
        retransmits: 'Tcp RetransSegs of the component\'s network namespace (/proc/<pid>/net/snmp): retransmitted segments of every socket in it',
        resetsSent: 'Tcp OutRsts of the component\'s network namespace (/proc/<pid>/net/snmp): RSTs sent by every socket in it, and in reply to segments no socket took',
      },
    };
  }
}

/** Sums of per-thread counters between two readings of a cgroup's threads. */
export interface ThreadTotals {
  readonly voluntary: number;
  readonly involuntary: number;
  readonly onCpuNs: number;
  readonly runqDelayNs: number;
  /** Threads there at the start and gone (or replaced) at the end: their counts after the start are missing. */
  readonly exited: number;
}

/** Per-thread differences summed; a thread born in between counts from 0 (all of its life is in the window). */
export function threadTotals(before: ReadonlyMap<number, TaskCounters>, after: ReadonlyMap<number, TaskCounters>): ThreadTotals {
  let voluntary = 0;
  let involuntary = 0;
  let onCpuNs = 0;
  let runqDelayNs = 0;
  let exited = 0;
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const same = b !== undefined && b.startTicks === a.startTicks;
    voluntary += a.voluntary - (same ? b.voluntary : 0);
    involuntary += a.involuntary - (same ? b.involuntary : 0);
    onCpuNs += a.onCpuNs - (same ? b.onCpuNs : 0);
    runqDelayNs += a.runqDelayNs - (same ? b.runqDelayNs : 0);
  }
  for (const [tid, b] of before) {
    const a = after.get(tid);
    if (a === undefined || a.startTicks !== b.startTicks) exited += 1;
  }
  return { voluntary, involuntary, onCpuNs, runqDelayNs, exited };
}

function readThreads(v2Path: string): Map<number, TaskCounters> {
  const out = new Map<number, TaskCounters>();
  for (const tid of readCgroupThreads(v2Path) ?? []) {
    const c = readTask(tid);
    if (c !== null) out.set(tid, c);
  }
  return out;
}

/** Context switches, on-CPU and run-queue time of a cgroup's threads, replacing sched_switch/sched_wakeup(_new). */
export class TaskSchedSource implements CounterSource {
  readonly name = 'per-thread scheduler counters';
  private snapshots: Array<{ target: ResolvedTarget; before: Map<number, TaskCounters> }> = [];

  unusable(targets: readonly ResolvedTarget[]): string | null {
    const t = targets.find((x) => x.v2Path === null);
    if (t !== undefined) return `component ${t.name} has no cgroup directory to list its threads`;
    if (readTask(process.pid) === null) return 'this kernel keeps no per-thread schedstat (CONFIG_SCHED_INFO)';
    for (const x of targets) {
      const tids = readCgroupThreads(x.v2Path as string) ?? [];
      // Threads listed but unreadable: another PID namespace (an agent without hostPID) would read as 0.
      if (tids.length > 0 && tids.every((tid) => readTask(tid) === null)) return `the threads of component ${x.name} are not visible in this /proc (run in the host's PID namespace)`;
    }
    return null;
  }

  begin(targets: readonly ResolvedTarget[]): void {
    this.snapshots = targets.map((target) => ({ target, before: readThreads(target.v2Path as string) }));
  }

  end(): Map<string, RecordPart> {
    const out = new Map<string, RecordPart>();
    for (const { target, before } of this.snapshots) {
      const t = threadTotals(before, readThreads(target.v2Path as string));
      const bound = t.exited > 0 ? `; ${t.exited} thread(s) exited during the window, so these are lower bounds` : '';
      const noHook = 'no per-thread kernel counter for it; `meshbench probe` (the full hook set) measures it with sched_switch';
      out.set(target.cgroupId.toString(), {
        contextSwitchesVoluntary: t.voluntary,
        contextSwitchesInvoluntary: t.involuntary,
        onCpuUs: t.onCpuNs / 1000,
        runqDelayUsTotal: t.runqDelayNs / 1000,
        wakeups: null, offCpuUs: null, offCpuUsP99: null, runqDelayUsP50: null, runqDelayUsP99: null, runqDelayUsLog2: [], offCpuUsLog2: [],
        sources: {
          contextSwitches: `the cgroup's threads' own counters (/proc/<tid>/status voluntary_ctxt_switches, nonvoluntary_ctxt_switches)${bound}`,
          onCpuUs: `the cgroup's threads' /proc/<tid>/schedstat (time on CPU)${bound}`,
          runqDelayUsTotal: `the cgroup's threads' /proc/<tid>/schedstat (time waiting on a run queue)${bound}`,
        },
        unmeasured: { wakeups: noHook, offCpuUs: noHook, offCpuUsP99: noHook, runqDelayUsP50: noHook, runqDelayUsP99: noHook },
      });
    }
    this.snapshots = [];
    return out;
  }
}
