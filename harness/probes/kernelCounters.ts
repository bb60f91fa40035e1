import fs from 'node:fs';
import path from 'node:path';

/*
 * Counters the kernel already keeps exactly, read at the edges of a measurement instead of hooking every event:
 * per-device packets and bytes of a network namespace (/proc/<pid>/net/dev, the namespace of <pid>), its TCP
 * MIB (/proc/<pid>/net/snmp, RFC 4022 names), and per-thread context switches, on-CPU and run-queue time
 * (/proc/<tid>/status nvcsw/nivcsw, /proc/<tid>/schedstat from CONFIG_SCHED_INFO). Parsers are pure; readers
 * return null when the file is gone (the process exited), never throw.
 */

/** Packets and bytes of one network device, as /proc/net/dev prints them (since the device was created). */
export interface DeviceCounters {
  readonly device: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly txPackets: number;
}

/** Parses /proc/net/dev: two header lines, then `name: rx bytes packets errs drop fifo frame compressed multicast tx bytes packets …`. */
export function parseProcNetDev(text: string): DeviceCounters[] {
  const out: DeviceCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 10 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({ device: line.slice(0, colon).trim(), rxBytes: f[0] as number, rxPackets: f[1] as number, txBytes: f[8] as number, txPackets: f[9] as number });
  }
  return out;
}

/** Parses /proc/net/snmp (or netstat): pairs of `Proto: Name Name…` / `Proto: value value…` lines → `Proto.Name` → value. */
export function parseSnmp(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] as string).trim().split(/\s+/);
    const values = (lines[i + 1] as string).trim().split(/\s+/);
    const proto = names[0];
    if (proto === undefined || !proto.endsWith(':') || values[0] !== proto) continue;
    for (let k = 1; k < names.length && k < values.length; k += 1) out.set(`${proto.slice(0, -1)}.${names[k] as string}`, Number(values[k]));
  }
  return out;
}

/** One thread's scheduling counters, all since the thread started. */
export interface TaskCounters {
  /** Thread start time in clock ticks after boot (/proc/<tid>/stat field 22): tells a reused tid apart. */
  readonly startTicks: number;
  /** nvcsw: switches out while blocked (the kernel's rule: !preempt && prev_state != TASK_RUNNING). */
  readonly voluntary: number;
  /** nivcsw: switches out while still runnable (preempted). */
  readonly involuntary: number;
  readonly onCpuNs: number;
  /** Time spent runnable on a run queue, waiting for a CPU. */
  readonly runqDelayNs: number;
  /** Times the thread was put on a CPU. */
  readonly timeslices: number;
}

/** `voluntary_ctxt_switches` / `nonvoluntary_ctxt_switches` of /proc/<tid>/status, or null when absent. */
export function parseContextSwitches(status: string): { voluntary: number; involuntary: number } | null {
  const v = /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(status);
  const n = /^nonvoluntary_ctxt_switches:\s*(\d+)$/m.exec(status);
  if (v === null || n === null) return null;
  return { voluntary: Number(v[1]), involuntary: Number(n[1]) };
}

/** /proc/<tid>/schedstat: `on-CPU ns, run-queue wait ns, timeslices`. */
export function parseSchedstat(text: string): { onCpuNs: number; runqDelayNs: number; timeslices: number } | null {
  const f = text.trim().split(/\s+/).map(Number);
  if (f.length < 3 || f.some((n) => !Number.isFinite(n))) return null;
  return { onCpuNs: f[0] as number, runqDelayNs: f[1] as number, timeslices: f[2] as number };
}

/** Field 22 (starttime) of /proc/<tid>/stat; the command name may hold spaces and parentheses, so count from the last ')'. */
export function parseStartTicks(stat: string): number | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const f = stat.slice(close + 2).split(' ');
  const v = Number(f[19]);
  return Number.isFinite(v) ? v : null;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The devices of pid's network namespace, or null when pid is gone. */
export function readNetDev(pid: number): DeviceCounters[] | null {
  const text = readOrNull(`/proc/${pid}/net/dev`);
  return text === null ? null : parseProcNetDev(text);
}

/** The IP/TCP/UDP MIB of pid's network namespace, or null when pid is gone. */
export function readSnmp(pid: number): Map<string, number> | null {
  const text = readOrNull(`/proc/${pid}/net/snmp`);
  return text === null ? null : parseSnmp(text);
}

/** One thread's counters, or null when it exited (or its files cannot be read). */
export function readTask(tid: number): TaskCounters | null {
  const stat = readOrNull(`/proc/${tid}/stat`);
  const status = readOrNull(`/proc/${tid}/status`);
  const sched = readOrNull(`/proc/${tid}/schedstat`);
  if (stat === null || status === null || sched === null) return null;
  const start = parseStartTicks(stat);
  const cs = parseContextSwitches(status);
  const ss = parseSchedstat(sched);
  if (start === null || cs === null || ss === null) return null;
  return { startTicks: start, ...cs, ...ss };
}

/** Thread ids in a cgroup v2 directory (cgroup.threads), or null when the cgroup is gone. */
export function readCgroupThreads(v2Path: string): number[] | null {
  const text = readOrNull(path.join(v2Path, 'cgroup.threads'));
  return text === null ? null : text.split('\n').filter((l) => l !== '').map(Number);
}

/** Process ids in a cgroup v2 directory (cgroup.procs), or null when the cgroup is gone. */
export function readCgroupProcs(v2Path: string): number[] | null {
  const text = readOrNull(path.join(v2Path, 'cgroup.procs'));
  return text === null ? null : text.split('\n').filter((l) => l !== '').map(Number);
}

/** Inode of pid's network namespace, or null when pid is gone. */
export function netnsOf(pid: number | 'self'): number | null {
  try {
    return Number(fs.statSync(`/proc/${pid}/ns/net`).ino);
  } catch {
    return null;
  }
}
