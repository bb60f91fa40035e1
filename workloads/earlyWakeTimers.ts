import type { Clock, TimerApi } from './clock';
import type { Microseconds } from './units';

/**
 * Something that can wake the event loop at an absolute time: a timerfd watched by libuv
 * (timerfdWakeSource.ts) or a helper thread (workerWakeSource.ts). It calls the `onWake` it was built with,
 * on the event loop, at or after the deadline, at most once per arm().
 */
export interface WakeSource {
  /** What it is, for logs and the bench JSON: 'timerfd' or 'worker'. */
  readonly kind: LoadTimerKind;
  /** Wake at or after `atUs` (the injected clock's µs); replaces any earlier arm. */
  arm(atUs: Microseconds): void;
  disarm(): void;
  /** Releases the fd or thread; no onWake after it returns. Idempotent. */
  close(): void;
}

/** Which wake source a TimerApi uses: the addon's timerfd, or the pure-JS helper thread (the fallback). */
export type LoadTimerKind = 'timerfd' | 'worker';

interface Entry {
  readonly atUs: Microseconds;
  /** Breaks ties so equal deadlines run in the order they were set, as Node's timers do. */
  readonly seq: number;
  fn: (() => void) | undefined;
}

/**
 * Spins for the final stretch with a synchronous busy-wait instead of one more loop turn, when the deadline
 * is closer than this: a loop turn (epoll_wait(0) plus setImmediate) takes a few µs, so below that a busy-wait
 * is as cheap and more punctual; it blocks I/O for at most this long.
 */
const busyWaitUs = 4;

/**
 * A TimerApi whose cost does not grow with the rate: one wake-up per deadline (or per batch of deadlines
 * that fall due together), a margin early, then a setImmediate spin (which still services I/O on every
 * turn) over only that margin. Every callback that came due runs on that wake-up, in deadline order.
 * The margin is the wake-up lateness measured on this machine for that length of sleep (wakeCalibration.ts);
 * the caller's own spin window should be 0 (RateScheduler/DeadlineQueue `spinWindowUs`), since the margin is spun here.
 * Callbacks never run before their deadline. After close(), nothing runs and setTimeout is a no-op.
 */
export class EarlyWakeTimers implements TimerApi {
  private readonly heap: Entry[] = [];
  private armedAtUs = Number.NaN;
  private spinHandle: NodeJS.Immediate | undefined = undefined;
  private releasing = false;
  private nextSeq = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly source: WakeSourceFactory,
    /** How early to wake before a deadline that is `sleepUs` away (µs): the measured wake-up lateness. */
    private readonly marginForSleepUs: (sleepUs: Microseconds) => Microseconds,
  ) {
    this.wakeSource = source((): void => this.onWake());
  }

  private readonly wakeSource: WakeSource;

  /** Which wake source it sleeps on. */
  get kind(): LoadTimerKind {
    return this.wakeSource.kind;
  }

  /** Runs `fn` at now + ms (fractional ms allowed); returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown {
    if (this.closed) return undefined;
    const entry: Entry = { atUs: this.clock.nowUs() + Math.max(0, ms) * 1000, seq: this.nextSeq++, fn };
    this.push(entry);
    if (!this.releasing && this.heap[0] === entry) this.schedule();
    return entry;
  }

  clearTimeout(handle: unknown): void {
    // Lazy deletion: the entry stays in the heap without its callback and is dropped when it reaches the top.
    if (handle !== null && typeof handle === 'object') (handle as Entry).fn = undefined;
  }

  setImmediate(fn: () => void): unknown {
    return setImmediate(fn);
  }

  clearImmediate(handle: unknown): void {
    clearImmediate(handle as NodeJS.Immediate);
  }

  /** Pending callbacks are dropped; the fd or thread is released before it returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heap.length = 0;
    if (this.spinHandle !== undefined) clearImmediate(this.spinHandle);
    this.spinHandle = undefined;
    this.wakeSource.close();
  }

  private readonly spinTurn = (): void => {
    this.spinHandle = undefined;
    this.onWake();
  };

  private onWake(): void {
    if (this.closed) return;
    this.armedAtUs = Number.NaN;
    this.releaseDue();
    this.schedule();
  }

  private releaseDue(): void {
    this.releasing = true;
    try {
      let now = this.clock.nowUs();
      for (;;) {
        const top = this.heap[0];
        if (top === undefined || this.closed) break;
        if (top.fn === undefined) {
          this.pop();
          continue;
        }
        if (top.atUs > now) {
          if (top.atUs - now > busyWaitUs) break;
          while (now < top.atUs) now = this.clock.nowUs();
        }
        this.pop();
        const fn = top.fn;
        top.fn = undefined;
        fn();
      }
    } finally {
      this.releasing = false;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    let top = this.heap[0];
    while (top !== undefined && top.fn === undefined) {
      this.pop();
      top = this.heap[0];
    }
    if (top === undefined) {
      if (!Number.isNaN(this.armedAtUs)) this.wakeSource.disarm();
      this.armedAtUs = Number.NaN;
      return;
    }
    const now = this.clock.nowUs();
    const wakeAtUs = top.atUs - this.marginForSleepUs(top.atUs - now);
    if (wakeAtUs <= now) {
      // Inside the margin: spin with the loop (I/O keeps flowing). A stale arm may still fire; onWake copes.
      if (this.spinHandle === undefined) this.spinHandle = setImmediate(this.spinTurn);
      return;
    }
    if (wakeAtUs === this.armedAtUs) return;
    this.armedAtUs = wakeAtUs;
    this.wakeSource.arm(wakeAtUs);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent] as Entry)) break;
      h[i] = h[parent] as Entry;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length === 0 || last === undefined) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!before(h[child] as Entry, last)) break;
      h[i] = h[child] as Entry;
      i = child;
    }
    h[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
}

/** Builds a wake source that calls `onWake` on the event loop. */
export type WakeSourceFactory = (onWake: () => void) => WakeSource;
