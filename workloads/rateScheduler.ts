import type { Clock, TimerApi } from './clock';
import type { Microseconds, RequestsPerSecond } from './units';

/**
 * Open-loop arrivals at a fixed rate: request k is due at startUs + k/qps, whatever happened to the
 * requests before it. Because latency is measured from these intended times, a stalled server is charged
 * for every request it kept waiting (coordinated omission corrected, as wrk2 does).
 *
 * The scheduler knows nothing about protocols (fortio's `periodic`): it calls `release(intendedUs)` for each
 * request that is due, in order, and the runner queues it until a connection is free.
 * With sub-millisecond timers (PreciseTimers) each request is released within a few µs of its time; with
 * plain libuv timers each wake-up releases the batch that came due. Either way the rate is exact on average
 * and the lateness of each send is measured by the runner (send lag).
 */
export class RateScheduler {
  private released = 0;
  private timer: unknown = undefined;
  private immediate: unknown = undefined;
  private stopped = true;
  private readonly intervalUs: Microseconds;

  constructor(
    private readonly qps: RequestsPerSecond,
    private readonly clock: Clock,
    private readonly timers: TimerApi,
    /** Called once per request in order; `index` counts from 0 (the runner routes it to connection index mod c). */
    private readonly release: (intendedUs: Microseconds, index: number) => void,
    /** Stop releasing once this returns false for the next intended time (end of duration / request count). */
    private readonly shouldRelease: (intendedUs: Microseconds, index: number) => boolean,
    /** Poll with setImmediate this close to a deadline, to absorb the event loop's wake-up latency. */
    private readonly spinWindowUs: Microseconds = 200,
    private startUs: Microseconds = 0,
  ) {
    if (!(qps > 0)) throw new RangeError('qps must be > 0 for an open-loop schedule');
    this.intervalUs = 1_000_000 / qps;
  }

  get releasedCount(): number {
    return this.released;
  }

  intendedUs(index: number): Microseconds {
    return this.startUs + index * this.intervalUs;
  }

  start(startUs: Microseconds = this.clock.nowUs()): void {
    this.startUs = startUs;
    this.released = 0;
    this.stopped = false;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.immediate !== undefined) this.timers.clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  /**
   * Releases everything due by now synchronously, so a caller closing the window at its end time does not
   * lose the requests a late wake-up has not released yet.
   */
  flush(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    if (this.immediate !== undefined) this.timers.clearImmediate(this.immediate);
    this.tick();
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    this.immediate = undefined;
    if (this.stopped) return;
    const now = this.clock.nowUs();
    for (;;) {
      const intended = this.intendedUs(this.released);
      if (intended > now) break;
      if (!this.shouldRelease(intended, this.released)) {
        this.stopped = true;
        return;
      }
      this.released += 1;
      this.release(intended, this.released - 1);
      if (this.stopped) return;
    }
    const remainingUs = this.intendedUs(this.released) - this.clock.nowUs();
    if (remainingUs <= this.spinWindowUs) this.immediate = this.timers.setImmediate(this.tick);
    else this.timer = this.timers.setTimeout(this.tick, (remainingUs - this.spinWindowUs) / 1000);
  };
}
