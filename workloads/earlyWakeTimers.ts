import type { Clock, TimerApi } from './clock';
import { MinHeap } from './minHeap';
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

/**
 * How early to wake before a deadline, and what it learns from each wake-up (adaptiveWakeMargin.ts is the
 * load loop's; a fixed function of the sleep suits tests).
 */
export interface WakeMarginPolicy {
  /** How early (µs, ≥ 0) to wake before a deadline `sleepUs` away. */
  marginUs(sleepUs: Microseconds): Microseconds;
  /** One wake-up of the source came `latenessUs` after the time it was armed for. */
  observe(latenessUs: Microseconds): void;
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
 * The final stretch before a deadline is a synchronous busy-wait instead of one more loop turn when it is
 * shorter than a loop turn (epoll_wait(0) plus setImmediate): the last turn of a setImmediate spin otherwise
 * overshoots the deadline by up to a turn. A turn is measured during the spin (exponentially weighted, 1/8
 * per turn), at least busyWaitMinUs; the busy-wait blocks I/O for at most busyWaitMaxUs.
 * Measured here before this (a fixed 4 µs): send lag p50 12–17 µs at 1,000 and 20 QPS, where the margin
 * covered the wake-up, i.e. the spin's last turn.
 */
const busyWaitMinUs = 4;
const busyWaitMaxUs = 40;

/**
 * A TimerApi whose cost does not grow with the rate: one wake-up per deadline (or per batch of deadlines
 * that fall due together), a margin early, then a setImmediate spin (which still services I/O on every
 * turn) over only that margin. Every callback that came due runs on that wake-up, in deadline order.
 * The margin follows the wake-up lateness observed during the run (`WakeMarginPolicy`, adaptiveWakeMargin.ts),
 * seeded by the one measured at start-up (wakeCalibration.ts);
 * the caller's own spin window should be 0 (RateScheduler/DeadlineQueue `spinWindowUs`), since the margin is spun here.
 * Callbacks never run before their deadline. After close(), nothing runs and setTimeout is a no-op.
 */
export class EarlyWakeTimers implements TimerApi {
  private readonly heap = new MinHeap<Entry>(before);
  private armedAtUs = Number.NaN;
  /** The deadline the current arm wakes early for. */
  private armedForUs = Number.NaN;
  /**
   * Spin (never sleep again) until this deadline is released: set on an early wake-up for it, or when a spin
   * starts. Else each spin turn would recompute the margin for the shrinking sleep that is left, find it over
   * its (smaller) budget and sleep again, paying a second wake-up and its lateness. Expires by itself: once
   * the clock passes it, everything due by it has been released.
   */
  private spinUntilUs = Number.NEGATIVE_INFINITY;
  private spinHandle: NodeJS.Immediate | undefined = undefined;
  private releasing = false;
  private nextSeq = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly source: WakeSourceFactory,
    /** How early to wake before a deadline, learning from the lateness of each wake-up of the source. */
    private readonly margin: WakeMarginPolicy,
    /**
     * Optional: raises the thread's scheduling priority around long sleeps (realtimeWait.ts). Told of every sleep
     * armed; it stays as it is through the spin that follows an early wake-up (≤ the margin), so the spin and the
     * release are not preempted either, and is left when there is nothing to wait for or the timers close.
     */
    private readonly priority?: SleepPriority,
  ) {
    this.wakeSource = source((): void => this.onSourceWake());
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
    this.heap.push(entry);
    if (!this.releasing && this.heap.peek() === entry) this.schedule();
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
    this.heap.clear();
    this.priority?.leave();
    if (this.spinHandle !== undefined) clearImmediate(this.spinHandle);
    this.spinHandle = undefined;
    this.wakeSource.close();
  }

  /** A loop turn while spinning (µs, exponentially weighted): how close to a deadline to busy-wait. */
  private turnUs = busyWaitMinUs;
  private lastSpinTurnUs = Number.NaN;

  private readonly spinTurn = (): void => {
    this.spinHandle = undefined;
    const now = this.clock.nowUs();
    if (!Number.isNaN(this.lastSpinTurnUs)) this.turnUs += (now - this.lastSpinTurnUs - this.turnUs) / 8;
    this.lastSpinTurnUs = now;
    this.onWake();
  };

  private onSourceWake(): void {
    if (this.closed) return;
    this.lastSpinTurnUs = Number.NaN; // a spin that follows starts afresh (the sleep is no loop turn)
    // A stale arm (replaced by a spin) may still fire; its lateness is still measured from the time it was armed for.
    if (!Number.isNaN(this.armedAtUs)) {
      this.margin.observe(this.clock.nowUs() - this.armedAtUs);
      if (this.armedForUs > this.spinUntilUs) this.spinUntilUs = this.armedForUs;
    }
    this.onWake();
  }

  private onWake(): void {
    if (this.closed) return;
    this.armedAtUs = Number.NaN;
    this.armedForUs = Number.NaN;
    this.releaseDue();
    this.schedule();
  }

  private releaseDue(): void {
    this.releasing = true;
    try {
      // `now` is read once, and once more after the one busy-wait this call may do: the callbacks set the next
      // deadlines, so re-reading the clock per release would chase them for ever once they come every 40 µs or
      // closer (≥ 25,000 QPS), or once a release costs more than the interval, and no I/O would ever run.
      let now = this.clock.nowUs();
      let busyWaited = false;
      for (;;) {
        const top = this.heap.peek();
        if (top === undefined || this.closed) break;
        if (top.fn === undefined) {
          this.heap.pop();
          continue;
        }
        if (top.atUs > now) {
          const busyWaitUs = this.turnUs < busyWaitMinUs ? busyWaitMinUs : this.turnUs > busyWaitMaxUs ? busyWaitMaxUs : this.turnUs;
          if (busyWaited || top.atUs - now > busyWaitUs) break;
          busyWaited = true;
          while (now < top.atUs) now = this.clock.nowUs();
        }
        this.heap.pop();
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
    let top = this.heap.peek();
    while (top !== undefined && top.fn === undefined) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (top === undefined) {
      if (!Number.isNaN(this.armedAtUs)) this.wakeSource.disarm();
      this.armedAtUs = Number.NaN;
      this.priority?.leave();
      return;
    }
    if (top.atUs <= this.spinUntilUs) {
      this.spin();
      return;
    }
    const now = this.clock.nowUs();
    const wakeAtUs = top.atUs - this.margin.marginUs(top.atUs - now);
    if (wakeAtUs <= now) {
      this.spinUntilUs = top.atUs;
      this.spin();
      return;
    }
    if (wakeAtUs === this.armedAtUs) return;
    this.armedAtUs = wakeAtUs;
    this.armedForUs = top.atUs;
    this.priority?.beforeSleep(wakeAtUs - now);
    this.wakeSource.arm(wakeAtUs);
  }

  /** Inside the margin: spin with the loop (I/O keeps flowing). A stale arm may still fire; onWake copes. */
  private spin(): void {
    if (this.spinHandle === undefined) this.spinHandle = setImmediate(this.spinTurn);
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
}

/** What EarlyWakeTimers tells a scheduling-priority policy (realtimeWait.ts's RealtimeWait). */
export interface SleepPriority {
  /** The loop is about to sleep `sleepUs` (µs) until its next wake-up. */
  beforeSleep(sleepUs: Microseconds): void;
  /** Nothing is pending: back to the ordinary priority. */
  leave(): void;
}

/** Builds a wake source that calls `onWake` on the event loop. */
export type WakeSourceFactory = (onWake: () => void) => WakeSource;
