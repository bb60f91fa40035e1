import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { TimerApi } from './clock';
import { MinHeap } from './minHeap';
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
  readonly atMs: number;
  /** Breaks ties so equal deadlines run in the order they were set, as Node's timers do. */
  readonly seq: number;
  /** Cleared by clearTimeout (lazy deletion: the entry is dropped when it reaches the top). */
  fn: (() => void) | undefined;
}

const before = (a: Entry, b: Entry): boolean => a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);

const nowAbsMs = (): number => performance.timeOrigin + performance.now();

export class PreciseTimers implements TimerApi {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly gen = new Int32Array(this.shared, 0, 1);
  private readonly deadline = new Float64Array(this.shared, 8, 1);
  private worker: Worker | undefined;
  private readonly entries = new MinHeap<Entry>(before);
  private nextSeq = 0;
  private armedAtMs = 0;
  private closed = false;

  setTimeout(fn: () => void, ms: number): unknown {
    if (this.closed) return undefined; // late callbacks after close() are dropped, not resurrecting the thread
    const entry: Entry = { atMs: nowAbsMs() + Math.max(0, ms), seq: this.nextSeq++, fn };
    this.entries.push(entry);
    if (this.entries.peek() === entry) this.arm();
    return entry;
  }

  clearTimeout(handle: unknown): void {
    if (handle === null || typeof handle !== 'object' || (handle as Entry).fn === undefined) return;
    (handle as Entry).fn = undefined;
    if (this.entries.peek() === handle) this.arm();
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
    this.entries.clear();
    if (this.worker === undefined) return;
    this.deadline[0] = -1;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
    void this.worker.terminate();
    this.worker = undefined;
  }

  private arm(): void {
    let first = this.entries.peek();
    while (first !== undefined && first.fn === undefined) {
      this.entries.pop();
      first = this.entries.peek();
    }
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
    for (let top = this.entries.peek(); top !== undefined && top.atMs <= now; top = this.entries.peek()) {
      this.entries.pop();
      const fn = top.fn;
      top.fn = undefined;
      fn?.();
    }
    this.arm();
  }
}
