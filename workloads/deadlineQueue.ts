import type { Clock, TimerApi } from './clock';
import type { Microseconds } from './units';

interface Entry {
  readonly atUs: Microseconds;
  readonly fn: () => void;
}

/**
 * Runs callbacks at absolute times with µs precision: sleeps with the injected timers until
 * `spinWindowUs` before the deadline, then polls with setImmediate (which still services I/O each turn)
 * so the callback runs within a few µs of its deadline. With libuv timers (whole milliseconds) the window
 * must exceed 1 ms; with PreciseTimers ~200 µs is enough.
 */
export class DeadlineQueue {
  private readonly heap: Entry[] = [];
  private timeoutHandle: unknown = undefined;
  private immediateHandle: unknown = undefined;
  private armedAtUs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly timers: TimerApi,
    private readonly spinWindowUs: Microseconds = 1500,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  schedule(atUs: Microseconds, fn: () => void): void {
    this.push({ atUs, fn });
    if (atUs < this.armedAtUs) this.arm();
  }

  clear(): void {
    this.heap.length = 0;
    this.disarm();
  }

  private readonly drive = (): void => {
    this.timeoutHandle = undefined;
    this.immediateHandle = undefined;
    this.armedAtUs = Number.POSITIVE_INFINITY;
    const now = this.clock.nowUs();
    while (this.heap.length > 0 && (this.heap[0] as Entry).atUs <= now) {
      (this.pop() as Entry).fn();
    }
    if (this.heap.length > 0) this.arm();
  };

  private arm(): void {
    this.disarm();
    const top = this.heap[0];
    if (top === undefined) return;
    this.armedAtUs = top.atUs;
    const remainingUs = top.atUs - this.clock.nowUs();
    if (remainingUs <= this.spinWindowUs) {
      this.immediateHandle = this.timers.setImmediate(this.drive);
    } else {
      this.timeoutHandle = this.timers.setTimeout(this.drive, (remainingUs - this.spinWindowUs) / 1000);
    }
  }

  private disarm(): void {
    if (this.timeoutHandle !== undefined) this.timers.clearTimeout(this.timeoutHandle);
    if (this.immediateHandle !== undefined) this.timers.clearImmediate(this.immediateHandle);
    this.timeoutHandle = undefined;
    this.immediateHandle = undefined;
    this.armedAtUs = Number.POSITIVE_INFINITY;
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Entry).atUs <= entry.atUs) break;
      h[i] = h[parent] as Entry;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && (h[r] as Entry).atUs < (h[l] as Entry).atUs ? r : l;
      if ((h[child] as Entry).atUs >= last.atUs) break;
      h[i] = h[child] as Entry;
      i = child;
    }
    h[i] = last;
    return top;
  }
}
