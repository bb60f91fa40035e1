import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError, MeshbenchError, ExitCode } from '../harness/errors';

/*
 * The only module that loads the native addon (bpf/addon, built by `make -C bpf` from ci/setup.sh). Every
 * verb is a typed wrapper; every native failure becomes a BpfError with a line a user can act on. The addon
 * only moves bytes: key/value layouts are decoded by the callers (harness/probes).
 */

export type ObjectHandle = number & { readonly __brand: 'BpfObject' };
export type LinkHandle = number & { readonly __brand: 'BpfLink' };
export type PerfFd = number & { readonly __brand: 'PerfFd' };

export interface ProgramInfo {
  readonly name: string;
  readonly section: string;
  readonly autoload: boolean;
}

export interface MapInfo {
  readonly name: string;
  /** enum bpf_map_type */
  readonly type: number;
  readonly keySize: number;
  /** Per CPU for per-CPU maps: mapLookup/mapDump return numPossibleCpus() values, each padded to 8 bytes. */
  readonly valueSize: number;
  readonly maxEntries: number;
}

export interface ObjectInfo {
  readonly programs: readonly ProgramInfo[];
  readonly maps: readonly MapInfo[];
  readonly loaded: boolean;
}

export interface PerfEventOptions {
  /** PERF_TYPE_*: 0 hardware, 1 software. */
  readonly type: number;
  /** PERF_COUNT_HW_* / PERF_COUNT_SW_*. */
  readonly config: number;
  /** -1 = every process (needs cpu >= 0). Ignored when cgroupPath is given. */
  readonly pid: number;
  /** -1 = any CPU (needs pid >= 0). */
  readonly cpu: number;
  /** Count only inside this cgroup (perf's cgroup mode; needs cpu >= 0). */
  readonly cgroupPath?: string;
  /** Sampling frequency; omitted = a counter. */
  readonly sampleFreqHz?: number;
  /** Count children created after opening too. */
  readonly inherit?: boolean;
}

/** Attach types for attachSockmap (enum bpf_attach_type). */
export const SockmapAttachType = { skMsgVerdict: 7, skSkbStreamParser: 4, skSkbStreamVerdict: 5, skSkbVerdict: 38 } as const;

export const PerfType = { hardware: 0, software: 1 } as const;
export const PerfSoftwareCounter = { cpuClock: 0, taskClock: 1, pageFaults: 2, contextSwitches: 3, cpuMigrations: 4 } as const;
export const PerfHardwareCounter = { cycles: 0, instructions: 1 } as const;

/** A native failure: `code` is the addon's (ENOOBJECT, EBPFLOAD, EPERM…), libbpfLog the tail of libbpf's messages. */
export class BpfError extends MeshbenchError {
  readonly code: string;
  readonly errno: number;
  readonly libbpfLog: string;
  constructor(message: string, code: string, errno: number, libbpfLog: string, hint?: string) {
    super(message, { exitCode: ExitCode.environment, ...(hint === undefined ? {} : { hint }) });
    this.code = code;
    this.errno = errno;
    this.libbpfLog = libbpfLog;
  }
}

interface NativeAddon {
  embeddedObjects(): string[];
  openObject(name: string): number;
  openObjectFile(path: string): number;
  describeObject(h: number): ObjectInfo;
  setAutoload(h: number, prog: string, on: boolean): void;
  setRodata(h: number, variable: string, bytes: Buffer): void;
  load(h: number): void;
  close(h: number): void;
  numPossibleCpus(): number;
  openHandles(): { objects: number; links: number };
  attach(h: number, prog: string): number;
  attachCgroup(h: number, prog: string, cgroupPath: string): number;
  attachSockmap(h: number, prog: string, mapName: string, attachType: number): number;
  attachPerfEvent(h: number, prog: string, perfFd: number): number;
  detach(link: number): void;
  mapUpdate(h: number, map: string, key: Buffer, value: Buffer, flags?: number): void;
  mapLookup(h: number, map: string, key: Buffer): Buffer | null;
  mapDelete(h: number, map: string, key: Buffer): boolean;
  mapDump(h: number, map: string): Array<[Buffer, Buffer]>;
  mapClear(h: number, map: string): number;
  ringBufferPoll(h: number, map: string): Buffer[];
  perfEventOpen(options: PerfEventOptions): number;
  perfEventRead(fd: number): bigint;
  perfEventClose(fd: number): void;
  openPerfFds(): number;
  enableStats(): number;
  programStats(h: number): Array<{ name: string; runTimeNs: bigint; runCount: bigint }>;
  timerCreate(onExpire: (expirations: number) => void): number;
  timerArm(h: number, deadlineNs: number): void;
  timerDisarm(h: number): void;
  timerClose(h: number): void;
  setTimerSlackNs(ns: number): number;
  openTimers(): number;
  setRealtimeWait(priority: number, rtTimeSoftUs: number, rtTimeHardUs: number): void;
  schedPolicy(): string;
  connectsListen(): { handle: number; port: number };
  connects(h: number, n: number): number;
  connectsClose(h: number): void;
  switcherStart(): number;
  switches(h: number, n: number): number;
  switcherStop(h: number): void;
  copierOpen(): number;
  copies(h: number, data: Uint8Array, times: number): number;
  copierClose(h: number): void;
}

const repoRoot = path.resolve(__dirname, '..', '..');
/** Where `make -C bpf` puts the addon; MESHBENCH_BPF_ADDON overrides it (tests point it at a missing file). */
export function addonPath(): string {
  return process.env.MESHBENCH_BPF_ADDON ?? path.join(repoRoot, 'bpf', 'addon', 'build', 'Release', 'meshbench_bpf.node');
}
/** Compiled objects, for openObject's fallback to files built after the addon. */
export const objectDir = path.join(repoRoot, 'bpf', '.output');

let native: NativeAddon | undefined;

function addon(): NativeAddon {
  if (native !== undefined) return native;
  const file = addonPath();
  if (!fs.existsSync(file)) throw new EnvironmentError(`the BPF addon is not built (${file} is missing)`, 'run bash ci/setup.sh');
  try {
    native = require(file) as NativeAddon;
  } catch (err) {
    throw new EnvironmentError(`the BPF addon does not load: ${(err as Error).message.split('\n')[0] ?? ''}`, 'rebuild it: make -C bpf clean all', err);
  }
  return native;
}

/** True when the addon is built and loads (it does not check root or the kernel). */
export function addonAvailable(): boolean {
  try {
    addon();
    return true;
  } catch {
    return false;
  }
}

function hintFor(code: string, errno: number): string | undefined {
  if (code === 'EPERM' || code === 'EACCES' || errno === 1) return 'BPF needs root (or CAP_BPF and CAP_PERFMON)';
  if (code === 'ENOOBJECT') return 'build the objects with bash ci/setup.sh; the names are bpf/<name>.bpf.c';
  if (code === 'ENOCGROUP') return 'give an existing cgroup v2 directory';
  if (code === 'ENOSWITCH') return 'the helper thread always answered before the caller waited: run the echo server on a machine (or cgroup) where its threads share CPU time, or without switches=';
  return undefined;
}

function call<T>(fn: (a: NativeAddon) => T): T {
  const a = addon();
  try {
    return fn(a);
  } catch (err) {
    if (err instanceof Error && typeof (err as { code?: unknown }).code === 'string') {
      const e = err as Error & { code: string; errno?: number; libbpfLog?: string };
      const log = e.libbpfLog ?? '';
      const lastLog = log.trim().split('\n').filter((l) => l !== '').pop();
      const message = e.code === 'EBPFLOAD' && lastLog !== undefined ? `${e.message} (libbpf: ${lastLog.trim()})` : e.message;
      throw new BpfError(message, e.code, e.errno ?? 0, log, hintFor(e.code, e.errno ?? 0));
    }
    throw err;
  }
}

/** Names of the objects built into the addon (bpf/<name>.bpf.c). */
export function embeddedObjects(): string[] {
  return call((a) => a.embeddedObjects());
}

/** Opens bpf/<name>.bpf.c's object: the copy built into the addon, else bpf/.output/<name>.bpf.o. */
export function openObject(name: string): ObjectHandle {
  return call((a) => {
    if (a.embeddedObjects().includes(name)) return a.openObject(name) as ObjectHandle;
    const file = path.join(objectDir, `${name}.bpf.o`);
    if (/^[a-z0-9_]+$/.test(name) && fs.existsSync(file)) return a.openObjectFile(file) as ObjectHandle;
    return a.openObject(name) as ObjectHandle; // throws ENOOBJECT with the addon's message
  });
}

export function describeObject(h: ObjectHandle): ObjectInfo {
  return call((a) => a.describeObject(h));
}

export function setAutoload(h: ObjectHandle, prog: string, on: boolean): void {
  call((a) => a.setAutoload(h, prog, on));
}

/** Sets a `const volatile` global before load; bytes must match the variable's size. */
export function setRodata(h: ObjectHandle, variable: string, bytes: Buffer): void {
  call((a) => a.setRodata(h, variable, bytes));
}

export function load(h: ObjectHandle): void {
  call((a) => a.load(h));
}

/** Destroys the object's links, ring buffers, programs and maps. Idempotent. */
export function close(h: ObjectHandle): void {
  call((a) => a.close(h));
}

export function numPossibleCpus(): number {
  return call((a) => a.numPossibleCpus());
}

/** What the addon holds open in this process (tests prove release with it). */
export function openHandles(): { objects: number; links: number; perfFds: number } {
  return call((a) => ({ ...a.openHandles(), perfFds: a.openPerfFds() }));
}

/** Attaches by section name: tracepoint/, raw_tp/, tp_btf/, kprobe/, fentry/… */
export function attach(h: ObjectHandle, prog: string): LinkHandle {
  return call((a) => a.attach(h, prog) as LinkHandle);
}

/** cgroup/connect4, sockops, cgroup_skb… on a cgroup v2 directory meshbench created. */
export function attachCgroup(h: ObjectHandle, prog: string, cgroupPath: string): LinkHandle {
  return call((a) => a.attachCgroup(h, prog, cgroupPath) as LinkHandle);
}

/** sk_msg verdict program on a sockmap/sockhash of the same object. */
export function attachSkMsg(h: ObjectHandle, prog: string, mapName: string): LinkHandle {
  return call((a) => a.attachSockmap(h, prog, mapName, SockmapAttachType.skMsgVerdict) as LinkHandle);
}

/** Any sockmap attach type (sk_skb stream parser/verdict too). */
export function attachSockmap(h: ObjectHandle, prog: string, mapName: string, attachType: number): LinkHandle {
  return call((a) => a.attachSockmap(h, prog, mapName, attachType) as LinkHandle);
}

/** The link keeps its own copy of the fd: close the PerfFd yourself with perfEventClose. */
export function attachPerfEvent(h: ObjectHandle, prog: string, perfFd: PerfFd): LinkHandle {
  return call((a) => a.attachPerfEvent(h, prog, perfFd) as LinkHandle);
}

/** Idempotent. */
export function detach(link: LinkHandle): void {
  call((a) => a.detach(link));
}

/** flags: 0 any, 1 only new, 2 only existing. */
export function mapUpdate(h: ObjectHandle, map: string, key: Buffer, value: Buffer, flags = 0): void {
  call((a) => a.mapUpdate(h, map, key, value, flags));
}

export function mapLookup(h: ObjectHandle, map: string, key: Buffer): Buffer | null {
  return call((a) => a.mapLookup(h, map, key));
}

/** false when the key was not there. */
export function mapDelete(h: ObjectHandle, map: string, key: Buffer): boolean {
  return call((a) => a.mapDelete(h, map, key));
}

/** Every entry; per-CPU values concatenated (numPossibleCpus() × valueSize rounded up to 8). */
export function mapDump(h: ObjectHandle, map: string): Array<[Buffer, Buffer]> {
  return call((a) => a.mapDump(h, map));
}

/** Deletes every entry (arrays: zeroes them); returns how many. */
export function mapClear(h: ObjectHandle, map: string): number {
  return call((a) => a.mapClear(h, map));
}

/** Records waiting in a BPF ring buffer; never blocks. */
export function ringBufferPoll(h: ObjectHandle, map: string): Buffer[] {
  return call((a) => a.ringBufferPoll(h, map));
}

/** A counter or sampler; code ENOTSUPPORTED when the event does not exist here (no PMU in a VM). */
export function perfEventOpen(options: PerfEventOptions): PerfFd {
  return call((a) => a.perfEventOpen(options) as PerfFd);
}

export function perfEventRead(fd: PerfFd): bigint {
  return call((a) => a.perfEventRead(fd));
}

export interface ProgramStats {
  readonly name: string;
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
}

/** Per-program run time and run count (counted only while an enableStats() fd is open). */
export function programStats(h: ObjectHandle): ProgramStats[] {
  return call((a) => a.programStats(h));
}

/** Turns on the kernel's BPF run-time statistics until the returned fd is closed with perfEventClose. */
export function enableStats(): PerfFd {
  return call((a) => a.enableStats() as PerfFd);
}

/** Idempotent. */
export function perfEventClose(fd: PerfFd): void {
  call((a) => a.perfEventClose(fd));
}

export type TimerfdHandle = number & { readonly __brand: 'Timerfd' };

/**
 * The addon's timerfd verbs (bpf/addon/src/timers.cc), for workloads/timerfdWakeSource.ts. A CLOCK_MONOTONIC
 * timerfd watched by the main thread's libuv loop (uv_poll): `onExpire(expirations)` runs on the event loop.
 * arm/disarm are returned unwrapped because they run once per request: they throw only on a closed handle or a
 * non-number deadline (programming errors), so the BpfError translation of call() would only add a closure.
 */
export interface TimerfdVerbs {
  /** Throws BpfError if timerfd_create or uv_poll fails (EMFILE…). */
  create(onExpire: (expirations: number) => void): TimerfdHandle;
  /** Absolute CLOCK_MONOTONIC deadline in ns (the clock of process.hrtime.bigint()); a past deadline fires at once. */
  arm(h: TimerfdHandle, deadlineNs: number): void;
  disarm(h: TimerfdHandle): void;
  /** Idempotent; the fd is closed when it returns and no callback runs afterwards. */
  close(h: TimerfdHandle): void;
  /** prctl(PR_SET_TIMERSLACK) for the calling thread; returns the previous slack in ns. */
  setTimerSlackNs(ns: number): number;
  /** Timerfds open through the addon in this process. */
  openTimers(): number;
}

/** Loads the addon and returns its timerfd verbs; throws EnvironmentError when the addon is missing or does not load. */
export function timerfdVerbs(): TimerfdVerbs {
  const a = addon();
  return {
    create: (onExpire) => call((n) => n.timerCreate(onExpire) as TimerfdHandle),
    arm: a.timerArm,
    disarm: a.timerDisarm,
    close: (h) => call((n) => n.timerClose(h)),
    setTimerSlackNs: (ns) => call((n) => n.setTimerSlackNs(ns)),
    openTimers: () => call((n) => n.openTimers()),
  };
}

/**
 * The addon's scheduling verbs (bpf/addon/src/timers.cc), for workloads/realtimeWait.ts: the load loop's thread
 * waits for long deadlines under SCHED_FIFO, bounded by RLIMIT_RTTIME.
 */
export interface SchedulingVerbs {
  /**
   * priority 1–99: the calling thread becomes SCHED_FIFO (reset on fork) after RLIMIT_RTTIME is set to
   * rtTimeSoftUs/rtTimeHardUs and SIGXCPU is made to demote it to SCHED_OTHER; priority 0: back to SCHED_OTHER
   * (nice kept). Throws BpfError (EPERM, EINVAL) when the kernel refuses; the policy is then unchanged.
   */
  setRealtimeWait(priority: number, rtTimeSoftUs: number, rtTimeHardUs: number): void;
  /** The calling thread's policy: 'fifo', 'other', 'rr' or 'other-class'. */
  schedPolicy(): string;
}

/** Loads the addon and returns its scheduling verbs; throws EnvironmentError when the addon is missing or does not load. */
export function schedulingVerbs(): SchedulingVerbs {
  addon();
  return {
    setRealtimeWait: (priority, softUs, hardUs) => call((n) => n.setRealtimeWait(priority, softUs, hardUs)),
    schedPolicy: () => call((n) => n.schedPolicy()),
  };
}

export type ConnectsListenerHandle = number & { readonly __brand: 'ConnectsListener' };
export type SwitcherHandle = number & { readonly __brand: 'Switcher' };
export type CopierHandle = number & { readonly __brand: 'Copier' };

/**
 * The addon's calibration verbs (bpf/addon/src/calibration.cc), for workloads/calibrationWork.ts: the echo
 * server's `connects` and `switches` controls (issue 14) done in native code, so the known work is the system
 * calls themselves and not Node's user space around them. All synchronous: they block the calling thread.
 * `connects` and `switches` are returned unwrapped (they run once per request and throw only on a closed
 * handle, a programming error).
 */
export interface CalibrationVerbs {
  /** Opens a blocking listener on 127.0.0.1 (any port); throws BpfError if socket/bind/listen fails. */
  connectsListen(): { handle: ConnectsListenerHandle; port: number };
  /** Opens `n` TCP connections to the listener one after another (connect, accept, close client end, close accepted end); returns how many failed (normally 0). */
  connects(h: ConnectsListenerHandle, n: number): number;
  /** Idempotent. */
  connectsClose(h: ConnectsListenerHandle): void;
  /** Starts a native helper thread sleeping on a futex; throws BpfError ETHREAD if it cannot start. */
  switcherStart(): SwitcherHandle;
  /** `n` futex hand-offs to the helper and back in which the caller slept; returns the hand-offs made (≥ n). */
  switches(h: SwitcherHandle, n: number): number;
  /** Stops and joins the helper thread; idempotent. */
  switcherStop(h: SwitcherHandle): void;
  /** Opens a non-blocking AF_UNIX stream socket pair; throws BpfError if socketpair(2) fails. */
  copierOpen(): CopierHandle;
  /**
   * Writes `times` copies of `data` into the pair and reads them back (one writev of up to 1024 iovecs and one
   * read per batch of up to 128 KiB); returns the bytes copied into and out of the kernel, 2 × times × data.length.
   * Throws BpfError with the errno of a failed writev or read.
   */
  copies(h: CopierHandle, data: Uint8Array, times: number): number;
  /** Closes both ends; idempotent. */
  copierClose(h: CopierHandle): void;
}

/** Loads the addon and returns its calibration verbs; throws EnvironmentError when the addon is missing or does not load (or predates them). */
export function calibrationVerbs(): CalibrationVerbs {
  const a = addon();
  if (typeof a.switches !== 'function' || typeof a.copies !== 'function') throw new EnvironmentError('the BPF addon predates the calibration verbs', 'rebuild it: bash ci/setup.sh');
  return {
    connectsListen: () => call((n) => n.connectsListen() as { handle: ConnectsListenerHandle; port: number }),
    connects: a.connects,
    connectsClose: (h) => call((n) => n.connectsClose(h)),
    switcherStart: () => call((n) => n.switcherStart() as SwitcherHandle),
    switches: a.switches,
    switcherStop: (h) => call((n) => n.switcherStop(h)),
    copierOpen: () => call((n) => n.copierOpen() as CopierHandle),
    // Called per request: unwrapped, as switches is (a BpfError from it still carries code and errno).
    copies: a.copies,
    copierClose: (h) => call((n) => n.copierClose(h)),
  };
}
