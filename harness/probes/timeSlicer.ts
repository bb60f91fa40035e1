/*
 * Counting in time slices, the way `perf stat` multiplexes more events than it has counters: the hook is
 * attached for onMs of every periodMs, and a count is scaled by time enabled / time running (perf's
 * `count * time_enabled / time_running`, tools/perf/util/stat.c). While detached the hook costs nothing at
 * all, which for raw_syscalls:sys_exit also means no syscall slow path for every task of the machine. The
 * estimate is exact for a steady rate and close for a rate that varies slower than a period; the raw count is
 * a hard lower bound.
 */

/** Slice lengths: attached for onMs of every periodMs (0 < onMs <= periodMs). */
export interface SliceSpec {
  readonly onMs: number;
  readonly periodMs: number;
}

/** Timers, injected so the schedule is tested without waiting. */
export interface SliceTimers {
  /** Monotonic clock in ns. */
  readonly nowNs: () => bigint;
  readonly setTimeout: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout: (handle: unknown) => void;
}

/** The process clock and Node timers (unref'd). */
export const realTimers: SliceTimers = {
  nowNs: () => process.hrtime.bigint(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A measurement must not keep a process alive that would otherwise exit.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What a sliced measurement ran: the share of the window it counted (1 = all of it). */
export interface SliceResult {
  readonly windowNs: number;
  readonly runningNs: number;
  /** runningNs / windowNs in (0, 1]; counts are scaled by its inverse. */
  readonly share: number;
  readonly slices: number;
}

/** Throws RangeError for slice lengths that cannot be scheduled. */
export function checkSliceSpec(spec: SliceSpec): void {
  if (!(spec.onMs > 0) || !(spec.periodMs >= spec.onMs) || !Number.isFinite(spec.periodMs)) {
    throw new RangeError(`time slices need 0 < onMs <= periodMs, got ${spec.onMs} of ${spec.periodMs} ms`);
  }
}

/**
 * Calls attach() at the start of every period and detach() onMs later, from start() to stop(). Each edge is
 * timed as the midpoint of the call, since the hook goes live somewhere inside it.
 */
export class TimeSlicer {
  private timer: unknown = null;
  private attached = false;
  private since = 0n;
  private startedNs = 0n;
  private runningNs = 0n;
  private slices = 0;
  private running = false;

  constructor(
    private readonly spec: SliceSpec,
    private readonly attach: () => void,
    private readonly detach: () => void,
    private readonly timers: SliceTimers = realTimers,
  ) {
    checkSliceSpec(spec);
  }

  /** Attaches for the first slice now; throws what attach() throws (nothing left scheduled). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedNs = this.timers.nowNs();
    this.runningNs = 0n;
    this.slices = 0;
    try {
      this.on();
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  private on(): void {
    const before = this.timers.nowNs();
    this.attach();
    const after = this.timers.nowNs();
    this.attached = true;
    this.since = (before + after) / 2n;
    this.slices += 1;
    this.timer = this.timers.setTimeout(() => this.off(true), this.spec.onMs);
  }

  private off(scheduleNext: boolean): void {
    if (this.attached) {
      const before = this.timers.nowNs();
      this.detach();
      const after = this.timers.nowNs();
      this.attached = false;
      this.runningNs += (before + after) / 2n - this.since;
    }
    if (!scheduleNext || !this.running) return;
    const rest = this.spec.periodMs - this.spec.onMs;
    const next = (): void => {
      if (!this.running) return;
      try {
        this.on();
      } catch {
        // The hook could not come back (the object is closing): the count so far stands, scaled by what ran.
        this.timer = null;
      }
    };
    if (rest <= 0) next();
    else this.timer = this.timers.setTimeout(next, rest);
  }

  /** Detaches if attached and returns what ran. Idempotent after the first call. */
  stop(): SliceResult {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const wasRunning = this.running;
    this.running = false;
    if (wasRunning) this.off(false);
    const windowNs = Number(this.timers.nowNs() - this.startedNs);
    const runningNs = Number(this.runningNs);
    return { windowNs, runningNs, share: windowNs > 0 && runningNs > 0 ? Math.min(1, runningNs / windowNs) : 0, slices: this.slices };
  }
}

/** A count scaled to the whole window (perf's multiplexing rule), rounded; null when nothing ran. */
export function scaleCount(count: number, share: number): number | null {
  if (!(share > 0)) return null;
  return Math.round(count / share);
}
