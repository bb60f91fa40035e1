import type { Clock, TimerApi } from './clock';
import { MinHeap } from './minHeap';
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
  private readonly heap = new MinHeap<Entry>((a, b) => a.atUs < b.atUs);
  private timeoutHandle: unknown = undefined;
  private immediateHandle: unknown = undefined;
  private armedAtUs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly timers: TimerApi,
    private readonly spinWindowUs: Microseconds = 1500,
  ) {}

  get size(): number {
    return this.heap.size;
  }

  schedule(atUs: Microseconds, fn: () => void): void {
    this.heap.push({ atUs, fn });
    if (atUs < this.armedAtUs) this.arm();
  }

  clear(): void {
    this.heap.clear();
    this.disarm();
  }

  private readonly drive = (): void => {
    this.timeoutHandle = undefined;
    this.immediateHandle = undefined;
    this.armedAtUs = Number.POSITIVE_INFINITY;
    const now = this.clock.nowUs();
    for (let top = this.heap.peek(); top !== undefined && top.atUs <= now; top = this.heap.peek()) {
      this.heap.pop();
      top.fn();
    }
    if (this.heap.size > 0) this.arm();
  };

  private arm(): void {
    this.disarm();
    const top = this.heap.peek();
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
}
