import fs from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { calibrationVerbs, type CalibrationVerbs, type ConnectsListenerHandle, type CopierHandle, type SwitcherHandle } from '../bpf/bpfBindings';
import type { Bytes, Microseconds } from './units';

/*
 * Known work for calibrating the overhead breakdown (issue 14): each kind of cost a data plane adds
 * (user-space CPU, copies through the kernel, connection set-up, context switches) injected in the
 * echo server in an amount known in advance, so the breakdown can be checked against it.
 */

/** Reads the process's CPU time in µs; injected for tests. Default: `process.cpuUsage` (getrusage(RUSAGE_SELF), a system call). */
export type CpuClock = () => Microseconds;

export const processCpuUs: CpuClock = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

let sink = 0;

/** Runs `iterations` turns of an LCG (~0.3–1 ns each on current x86): pure user-space CPU, no call out of V8. */
export function spinLcg(iterations: number): void {
  let x = sink | 1;
  for (let i = 0; i < iterations; i += 1) x = (Math.imul(x, 1103515245) + 12345) | 0;
  sink = x;
}

/** Median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Burns a known amount of user-space CPU without making system calls while it burns. The first version
 * spun until getrusage said enough CPU had passed, checking every few µs: ~33 getrusage calls per
 * 200 µs burn, which the breakdown rightly put in `syscalls` (+18.5 µs per request) instead of user space.
 * Reading a clock from the vDSO instead (performance.now, process.hrtime: no syscall) would time wall
 * time, so a burn preempted by another process would cost less CPU than asked.
 *
 * So the burner counts iterations of a fixed loop: it measures the loop's iterations per µs of process
 * CPU once at start (the median of 5 trials of ~1 ms after a JIT warm-up, ~10 ms in all), then burns
 * `us × rate` iterations with no clock at all. The trade-off: a loop's speed is not fixed (the CPU's
 * clock frequency, an SMT sibling or a neighbour thrashing the cache change it), so every
 * `checkEvery`-th burn is timed by CPU clock (2 getrusage calls per `checkEvery` requests, ~0.01 per
 * request) and the rate is the median of the start-up trials and the last `window` timed burns. Process
 * CPU also counts other threads running meanwhile (V8's GC helpers): a timed burn they overlap reads
 * slow, and the median keeps one such outlier out.
 */
export class CpuBurner {
  private readonly rates: number[] = [];
  private iterationsPerUs: number;
  private burns = 0;

  /**
   * @param clock process CPU time, µs (injected for tests);
   * @param spin the loop that burns `iterations` (injected for tests; default spinLcg);
   * @param checkEvery every how many burns one is timed; @param window how many timed rates the median keeps.
   */
  constructor(private readonly clock: CpuClock = processCpuUs, private readonly spin: (iterations: number) => void = spinLcg, readonly checkEvery = 64, readonly window = 15) {
    this.spin(200_000); // JIT warm-up: the optimised loop is the one that burns
    const probeIterations = 20_000;
    const guess = this.time(probeIterations);
    this.rates.length = 0; // too short to keep: the 1 µs resolution of the clock is ~5 % of it
    for (let t = 0; t < 5; t += 1) this.time(Math.max(1000, Math.round(guess * 1000)));
    this.iterationsPerUs = median(this.rates);
  }

  /** The loop's current rate: iterations per µs of CPU (median of the timed runs kept). */
  get rate(): number {
    return this.iterationsPerUs;
  }

  /** Burns `us` µs of CPU (≤ 0: nothing); returns the iterations run. */
  burn(us: Microseconds): number {
    if (us <= 0) return 0;
    const iterations = Math.max(1, Math.round(us * this.iterationsPerUs));
    this.burns += 1;
    // Timing a short burn would measure the clock's own cost and resolution (1 µs), not the loop.
    if (this.burns % this.checkEvery === 0 && us >= 50) {
      this.time(iterations);
      this.iterationsPerUs = median(this.rates);
    } else this.spin(iterations);
    return iterations;
  }

  /** Runs `iterations` timed by the CPU clock and keeps the rate; returns it. */
  private time(iterations: number): number {
    const start = this.clock();
    this.spin(iterations);
    const us = this.clock() - start;
    const rate = iterations / Math.max(us, 1);
    this.rates.push(rate);
    if (this.rates.length > this.window) this.rates.shift();
    return rate;
  }
}

let defaultBurner: CpuBurner | undefined;

/**
 * Burns `us` of user-space CPU with a process-wide CpuBurner (measured on first use, ~10 ms): no
 * system call during the burn but one timed burn in 64 (see CpuBurner for why and the trade-off).
 */
export function burnCpu(us: Microseconds): void {
  if (us <= 0) return;
  defaultBurner ??= new CpuBurner();
  defaultBurner.burn(us);
}

/** `copies=N`'s work: the reply's bytes passed N times through the kernel over a Unix socket pair. */
export interface Copier {
  readonly path: ControlPath;
  /** Passes `data` through the kernel `times` times; returns the bytes copied into and out of it (2 × times × bytes). */
  pass(data: Buffer, times: number): Bytes;
  close(): void;
}

/** Opens the native copier when the addon has it, else the Node one. */
export async function openCopier(): Promise<Copier> {
  const verbs = nativeCalibration();
  return verbs === undefined ? KernelCopier.open() : NativeKernelCopier.open(verbs);
}

/**
 * `copies` in native code: the addon's own socket pair (socketpair(2), both ends non-blocking) and the same calls
 * as KernelCopier (one writev of the N copies, one read of them, per 128 KiB batch) in one synchronous call
 * (bpf/addon/src/calibration.cc). KernelCopier's JavaScript and Node fs layer around those two calls (the iovec
 * array, fs.writevSync/readSync, libuv's fs request, the fd lookups) cost +6.2 µs/req of application at copies=4
 * of a 16 KiB reply (README "Calibration"): user space that is not the copy.
 */
export class NativeKernelCopier implements Copier {
  readonly path = 'native';
  private constructor(private readonly verbs: CalibrationVerbs, private readonly handle: CopierHandle) {}

  /** Throws BpfError when socketpair(2) fails. */
  static open(verbs: CalibrationVerbs): NativeKernelCopier {
    return new NativeKernelCopier(verbs, verbs.copierOpen());
  }

  pass(data: Buffer, times: number): Bytes {
    return data.length === 0 || times <= 0 ? 0 : this.verbs.copies(this.handle, data, times);
  }

  close(): void {
    this.verbs.copierClose(this.handle);
  }
}

/**
 * A connected pair of Unix stream sockets (socketpair(2) in effect) written and read synchronously: `pass(data,
 * N)` writes N copies of the bytes into the kernel and reads them back out, so bytes copied rise by exactly
 * 2 × N × the bytes (N × into the kernel, N × out of it, each counted once by recvmsg). The copies go in as one
 * writev(2) of N iovecs and come out with one read(2) while they fit in 128 KiB (more calls in 128 KiB batches
 * above that): the first version made one write(2) and one read(2) per pass, and with 16 KiB replies each
 * call's own overhead (Node's fs layer in user space, the syscall entry, the fd lookup) was several times
 * the copy it carried. libuv's reading is stopped on both ends so the synchronous calls own the fds.
 * Bytes copied rise by exactly that amount whatever the batching; the syscalls per request do not (see pass).
 * The Node fallback of NativeKernelCopier (the bundled echo in Kubernetes pods, a checkout without the addon).
 */
export class KernelCopier implements Copier {
  readonly path = 'node';
  /** Largest batch: well under the Unix socket's send buffer (net.core.wmem_default, 208 KiB), so a write never waits on its own read. */
  static readonly batchBytes = 128 * 1024;
  private readonly scratch = Buffer.allocUnsafe(KernelCopier.batchBytes);

  private constructor(private readonly writer: net.Socket, private readonly reader: net.Socket, private readonly server: net.Server) {}

  /** Opens the pair on an abstract-namespace Unix socket (nothing on disk to clean up). */
  static async open(): Promise<KernelCopier> {
    const server = net.createServer();
    const address = `\0meshbench-copies-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(address, resolve); });
    const writer = net.connect(address);
    await new Promise<void>((resolve, reject) => { writer.once('error', reject); writer.once('connect', resolve); });
    const reader = await accepted;
    writer.pause();
    reader.pause();
    return new KernelCopier(writer, reader, server);
  }

  /**
   * Passes `data` through the kernel `times` times; returns the bytes copied into and out of it (2 × times ×
   * bytes). Syscalls: one writev and one read per batch of up to 128 KiB of copies (so 2 per request for
   * copies=4 of a 16 KiB reply), and 2 per 128 KiB piece for a reply larger than that.
   */
  pass(data: Buffer, times: number): Bytes {
    if (data.length === 0 || times <= 0) return 0;
    let copied = 0;
    if (data.length <= KernelCopier.batchBytes) {
      const perBatch = Math.floor(KernelCopier.batchBytes / data.length);
      for (let left = times; left > 0;) {
        const k = Math.min(perBatch, left);
        this.transfer(data, k);
        copied += 2 * k * data.length;
        left -= k;
      }
      return copied;
    }
    for (let t = 0; t < times; t += 1) {
      for (let off = 0; off < data.length; off += KernelCopier.batchBytes) {
        const piece = data.subarray(off, off + KernelCopier.batchBytes);
        this.transfer(piece, 1);
        copied += 2 * piece.length;
      }
    }
    return copied;
  }

  /** Writes `k` copies of `data` (k × bytes ≤ batchBytes) and reads them back; a short write is finished after reading. */
  private transfer(data: Buffer, k: number): void {
    const wfd = fdOf(this.writer);
    const rfd = fdOf(this.reader);
    const total = k * data.length;
    let written = 0;
    let read = 0;
    while (read < total) {
      if (written < total) {
        const first = written % data.length;
        const rest = Math.floor((total - written) / data.length); // whole copies after the partial one
        const iov = first === 0 ? [] : [data.subarray(first)];
        for (let i = 0; i < rest; i += 1) iov.push(data);
        try {
          written += iov.length === 1 ? fs.writeSync(wfd, iov[0] as Buffer) : fs.writevSync(wfd, iov);
        } catch (err) {
          // The send buffer is full (another pass's bytes still queued): read what is there, then write on.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
      }
      if (read < written) read += fs.readSync(rfd, this.scratch, 0, Math.min(this.scratch.length, written - read), null);
    }
  }

  close(): void {
    this.writer.destroy();
    this.reader.destroy();
    this.server.close();
  }
}

function fdOf(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the copy socket has no file descriptor');
  return fd;
}

/**
 * Which mechanism did a control's work: `native` (the addon's verbs, bpf/addon/src/calibration.cc: the system
 * calls with almost no user space around them) or `node` (the pure-Node fallback: the bundled echo in Kubernetes
 * pods, or a checkout whose addon is not built; its user space shows in the breakdown, README "Calibration").
 */
export type ControlPath = 'native' | 'node';

/** Returns the addon's calibration verbs, or undefined when the addon is missing or predates them (the caller then takes the Node path). */
export function nativeCalibration(): CalibrationVerbs | undefined {
  try {
    return calibrationVerbs();
  } catch {
    return undefined;
  }
}

/** `connects=N`'s work: N TCP connections opened and closed in turn to a local listener (connection churn). */
export interface Churner {
  readonly path: ControlPath;
  /** The listener's port on 127.0.0.1. */
  readonly port: number;
  /**
   * Opens and closes `n` connections in turn; calls `done` with the number that failed (normally 0):
   * synchronously on the native path, from the event loop on the Node path.
   */
  churn(n: number, done: (failed: number) => void): void;
  close(): void;
}

/** Opens the native churner when the addon has it, else the Node one. */
export async function openChurner(): Promise<Churner> {
  const verbs = nativeCalibration();
  return verbs === undefined ? ConnectionChurner.open() : NativeConnectionChurner.open(verbs);
}

/**
 * `connects` in native code: a blocking listener of the addon's own on 127.0.0.1 and, per connection, socket,
 * connect, accept, close of the client end (FIN first from the client, as ConnectionChurner does), close of
 * the accepted end, all in one synchronous call. The Node path's net.connect, libuv's accept and the reads of
 * EOF cost ~98 µs of user space per connection (measured: +196 µs/req of application at connects=2).
 */
export class NativeConnectionChurner implements Churner {
  readonly path = 'native';
  private constructor(private readonly verbs: CalibrationVerbs, private readonly handle: ConnectsListenerHandle, readonly port: number) {}

  /** Throws BpfError when the listener cannot be opened. */
  static open(verbs: CalibrationVerbs): NativeConnectionChurner {
    const l = verbs.connectsListen();
    return new NativeConnectionChurner(verbs, l.handle, l.port);
  }

  churn(n: number, done: (failed: number) => void): void {
    done(n <= 0 ? 0 : this.verbs.connects(this.handle, n));
  }

  close(): void {
    this.verbs.connectsClose(this.handle);
  }
}

/**
 * A local TCP listener that accepts and closes: `churn(n)` opens n connections to it one after the
 * other and closes each (client first, graceful FIN both ways), so a request costs n × (connect,
 * accept, 3-way handshake, 4-way close) and leaves n client-side TIME_WAIT sockets (reused on
 * loopback, `net.ipv4.tcp_tw_reuse=2`, so ports do not run out). The Node fallback of NativeConnectionChurner.
 */
export class ConnectionChurner implements Churner {
  readonly path = 'node';
  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async open(host = '127.0.0.1'): Promise<ConnectionChurner> {
    const server = net.createServer((s) => {
      s.on('error', () => s.destroy());
      s.on('end', () => s.end());
      s.resume();
    });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen({ host, port: 0, backlog: 4096 }, resolve); });
    return new ConnectionChurner(server, (server.address() as net.AddressInfo).port);
  }

  /** Opens and closes `n` connections in turn; calls `done` with the number that failed (normally 0). */
  churn(n: number, done: (failed: number) => void): void {
    let left = n;
    let failed = 0;
    const next = (): void => {
      if (left <= 0) { done(failed); return; }
      left -= 1;
      const s = net.connect({ host: '127.0.0.1', port: this.port });
      s.once('connect', () => s.end());
      s.once('error', () => { failed += 1; });
      s.resume();
      s.once('close', next);
    };
    next();
  }

  close(): void {
    this.server.close();
  }
}

const switchWorkerSource = `
const { workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData);
for (;;) {
  Atomics.wait(flag, 0, 0);
  const v = Atomics.load(flag, 0);
  if (v === 2) break;
  if (v === 1) { Atomics.store(flag, 0, 0); Atomics.notify(flag, 0); }
}
`;

/**
 * Voluntary context switches on demand: the calling thread hands a token to a helper thread and sleeps
 * on a futex (Atomics.wait) until it comes back. A hand-off counts only if the caller really slept
 * (Atomics.wait returned 'ok', not 'not-equal' because the helper was already done), so `switches(n)`
 * costs the calling thread at least n voluntary switches (in /proc/self/task/TID/status), and the helper
 * as many. The Node fallback of NativeContextSwitcher.
 */
export class ContextSwitcher implements Switcher {
  readonly path = 'node';
  private constructor(private readonly flag: Int32Array, private readonly worker: Worker) {}

  /** Starts the helper thread; resolves once it runs (so the first hand-off does not wait for its start-up). */
  static start(): Promise<ContextSwitcher> {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(switchWorkerSource, { eval: true, workerData: flag.buffer });
    return new Promise((resolve, reject) => {
      // Unreferenced only once it runs: until then it is what keeps a process that is not yet listening alive.
      worker.once('online', () => { worker.unref(); resolve(new ContextSwitcher(flag, worker)); });
      worker.once('error', reject);
    });
  }

  /** Returns the number of hand-offs made (≥ n: the ones where the caller did not sleep are repeated). */
  switches(n: number): number {
    let slept = 0;
    let handoffs = 0;
    while (slept < n) {
      handoffs += 1;
      Atomics.store(this.flag, 0, 1);
      Atomics.notify(this.flag, 0);
      let sleptThisTime = false;
      while (Atomics.load(this.flag, 0) === 1) {
        const r = Atomics.wait(this.flag, 0, 1, 1000);
        if (r === 'ok') sleptThisTime = true;
        else if (r === 'timed-out') throw new Error('the context-switch helper thread did not answer in 1 s');
      }
      if (sleptThisTime) slept += 1;
    }
    return handoffs;
  }

  close(): Promise<void> {
    Atomics.store(this.flag, 0, 2);
    Atomics.notify(this.flag, 0);
    return this.worker.terminate().then(() => undefined);
  }
}

/** `switches=N`'s work: hand-offs to a helper thread and back, each sleeping the calling thread. */
export interface Switcher {
  readonly path: ControlPath;
  /** Returns the number of hand-offs made (≥ n: the ones where the caller did not sleep are repeated). */
  switches(n: number): number;
  close(): Promise<void>;
}

/** Starts the native switcher when the addon has it, else the Node one (a Worker). */
export async function startSwitcher(): Promise<Switcher> {
  const verbs = nativeCalibration();
  return verbs === undefined ? ContextSwitcher.start() : NativeContextSwitcher.start(verbs);
}

/**
 * `switches` in native code: the addon's helper thread and a futex word, the same hand-off rule as
 * ContextSwitcher (a hand-off counts when the caller's FUTEX_WAIT slept). The Node path's Atomics.wait and
 * notify go through V8's own mutex and condition variable and cost ~5 µs of user space per hand-off (measured:
 * +54 µs/req of application at switches=10).
 */
export class NativeContextSwitcher implements Switcher {
  readonly path = 'native';
  private constructor(private readonly verbs: CalibrationVerbs, private readonly handle: SwitcherHandle) {}

  /** Throws BpfError ETHREAD when the helper thread cannot start. */
  static start(verbs: CalibrationVerbs): NativeContextSwitcher {
    return new NativeContextSwitcher(verbs, verbs.switcherStart());
  }

  switches(n: number): number {
    return n <= 0 ? 0 : this.verbs.switches(this.handle, n);
  }

  close(): Promise<void> {
    this.verbs.switcherStop(this.handle);
    return Promise.resolve();
  }
}
