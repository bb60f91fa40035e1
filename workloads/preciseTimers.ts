import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { TimerApi } from './clock';
import { futexWorkerSource } from './workerWakeSource';

/*
 * libuv timers fire on whole milliseconds of a cached loop clock: a 1 ms timer lands anywhere in
 * ~0.1–2 ms, and a load client that sleeps with them sends each request ~0.5 ms late on average.
 * Here one helper thread sleeps on a futex with a sub-millisecond timeout (Atomics.wait) until the
 * earliest deadline and then wakes the event loop with a message. Callers add a short setImmediate
 * poll before the deadline (their spin window) to absorb the ~50 µs it takes the loop to wake.
 * The thread costs no CPU while it waits, unlike spinning the whole interval.
 */

// The helper thread's program and its shared layout: workerWakeSource.ts (one copy for both timers).

interface Entry {
  readonly id: number;
  readonly atMs: number;
  readonly fn: () => void;
}

const nowAbsMs = (): number => performance.timeOrigin + performance.now();

export class PreciseTimers implements TimerApi {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly gen = new Int32Array(this.shared, 0, 1);
  private readonly deadline = new Float64Array(this.shared, 8, 1);
  private worker: Worker | undefined;
  private entries: Entry[] = [];
  private nextId = 1;
  private armedAtMs = 0;
  private closed = false;

  setTimeout(fn: () => void, ms: number): unknown {
    if (this.closed) return undefined; // late callbacks after close() are dropped, not resurrecting the thread
    const entry: Entry = { id: this.nextId++, atMs: nowAbsMs() + Math.max(0, ms), fn };
    // Few timers are ever pending at once (one per scheduler), so a sorted array beats a heap here.
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1] as Entry).atMs > entry.atMs) i -= 1;
    this.entries.splice(i, 0, entry);
    if (i === 0) this.arm();
    return entry.id;
  }

  clearTimeout(handle: unknown): void {
    const i = this.entries.findIndex((e) => e.id === handle);
    if (i < 0) return;
    this.entries.splice(i, 1);
    if (i === 0) this.arm();
  }

  setImmediate(fn: () => void): unknown {
    return setImmediate(fn);
  }

  clearImmediate(handle: unknown): void {
    clearImmediate(handle as NodeJS.Immediate);
  }

  /** Stops the helper thread; pending timers are dropped. */
  close(): void {
    this.closed = true;
    this.entries = [];
    if (this.worker === undefined) return;
    this.deadline[0] = -1;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
    void this.worker.terminate();
    this.worker = undefined;
  }

  private arm(): void {
    const first = this.entries[0];
    const atMs = first === undefined ? 0 : first.atMs;
    if (atMs === this.armedAtMs) return;
    this.armedAtMs = atMs;
    const w = this.ensureWorker();
    if (first === undefined) w.unref();
    else w.ref(); // a pending timer keeps the process alive, as a libuv timer would
    this.deadline[0] = atMs;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
  }

  private ensureWorker(): Worker {
    if (this.worker === undefined) {
      this.worker = new Worker(futexWorkerSource, { eval: true, workerData: this.shared });
      this.worker.on('message', () => this.fire());
      this.worker.unref();
    }
    return this.worker;
  }

  private fire(): void {
    this.armedAtMs = 0;
    const now = nowAbsMs();
    while (this.entries.length > 0 && (this.entries[0] as Entry).atMs <= now) {
      (this.entries.shift() as Entry).fn();
    }
    this.arm();
  }
}
