import { monotonicClock, type Clock, type TimerApi } from './clock';
import { createLoadTimers, type LoadTimers } from './loadTimers';
import type { ClientConnection, ConnectionEvents } from './clientConnection';
import { FortioHistogram } from './fortioHistogram';
import { connectionFactory } from './connectionFactory';
import { grpcStatusName } from './grpcStatus';
import { HttpResponseParser } from './httpResponseParser';
import { LatencyHistogram } from './latencyHistogram';
import type { LoadOptions } from './loadOptions';
import { emptyLatencyReason, histogramRecord, loadResultSchemaVersion, noSuccessReason, type LoadResult } from './loadResult';
import { redactHeaders, type LoadProtocol } from './loadTarget';
import { RateScheduler } from './rateScheduler';
import { defaultRealtimeWait } from './realtimeWait';
import { SizeCounts } from './sizeCounts';
import type { Microseconds } from './units';

/**
 * Runs the per-response code once on canned bytes before the clock starts, so the first measured
 * request does not pay for compiling it (measured: ~1 ms on the first request of `-n 1` without this).
 */
function warmUpHotPath(protocol: LoadProtocol): void {
  if (protocol === 'http') {
    const parser = new HttpResponseParser();
    const canned = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    for (let i = 0; i < 3; i += 1) {
      parser.startResponse();
      parser.feed(canned);
    }
  }
  const h = new LatencyHistogram();
  h.record(1);
}

export interface LoadProgress {
  readonly elapsedUs: Microseconds;
  readonly warmingUp: boolean;
  readonly completed: number;
  readonly errors: number;
  readonly qpsLastInterval: number;
  /** P99 of the requests recorded so far; null before the first one completes (an empty histogram has no P99, not 0 µs). */
  readonly p99Us: Microseconds | null;
}

export interface LoadRunnerDeps {
  readonly clock?: Clock;
  readonly timers?: TimerApi;
  readonly version?: string;
  readonly onProgress?: (p: LoadProgress) => void;
  /** Called once when the warm-up ends and measuring starts (the runner starts probes then). */
  readonly onMeasuring?: () => void;
  readonly progressIntervalMs?: number;
  /** Aborts the run early (Ctrl-C); the result keeps what was measured. */
  readonly signal?: AbortSignal;
}

/** Placeholder until run() sets the real timers: nothing is scheduled before then, so any use is a bug. */
const unsetTimers: TimerApi = {
  setTimeout: () => { throw new Error('LoadRunner: timers used before run()'); },
  clearTimeout: () => undefined,
  setImmediate: () => { throw new Error('LoadRunner: timers used before run()'); },
  clearImmediate: () => undefined,
};

/** After a connection error, wait this long before the slot sends again, so a refused target is not hammered. */
const reconnectBackoffUs = 10_000;
/** How often requests in flight are checked against --timeout. */
const timeoutSweepMs = 20;

/** Error kinds the runner itself records (the connections add socket and protocol kinds). */
export const unsentKind = 'unsent';
export const inFlightAtEndKind = 'in-flight-at-end';
export const overflowKind = 'overflow';
export const timeoutKind = 'timeout';

/**
 * One connection slot. Open loop: request k of the global schedule (intended at start + k/qps) belongs
 * to slot k mod c, so each slot runs its own schedule at qps/c, phases staggered by 1/qps (wrk2's
 * per-connection schedule, fortio's -uniform). A slot's backlog (requests due but not sent because its
 * one request in flight has not come back) is the run of indices nextIndex, nextIndex + c, … : a count,
 * not a queue, so it costs no memory however far a stalled server falls behind.
 */
interface Slot {
  readonly conn: ClientConnection;
  readonly index: number;
  /** Global schedule index of the oldest request due on this slot and not yet sent. */
  nextIndex: number;
  backlog: number;
  /** Waiting out the reconnect back-off after an error. */
  backingOff: boolean;
  /** Requests written to a connected socket (answered or not); a request whose connect was refused is not among them. */
  requestsCarried: number;
  socketsOpened: number;
}

/**
 * Drives c connection slots with either an open-loop schedule (qps > 0) or a closed loop (qps = 0, each
 * slot sends again as soon as its response arrives). Accounts for every request whose intended time
 * falls in the measured window, as wrk2 does: answered, failed, unsent at the window's close, or still in
 * flight after the drain. Records latency from the intended time (all requests, and the failed ones
 * apart), service time from the actual send, and the client's own send lag.
 */
export class LoadRunner {
  private readonly clock: Clock;
  /** Set in run(): the injected timers, else createLoadTimers()'s. */
  private timers: TimerApi;
  /** Set when the runner made its own timers (closed at the end); injected timers belong to the caller. */
  private ownTimers: LoadTimers | undefined;
  private spinWindowUs: Microseconds | undefined;
  /** Indexed by connection id (ClientConnection.id is its slot's index): no lookup per response. */
  private readonly slots: Slot[] = [];
  private readonly latency = new LatencyHistogram();
  private readonly errorLatency = new LatencyHistogram();
  private readonly service = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  /** Sizes per response (fortio's Sizes and HeaderSizes), as counts per size: made fortio histograms at the end. */
  private readonly responseBytes = new SizeCounts();
  private readonly headerBytes = new SizeCounts();
  /** Indexed by status code: a typed array costs less per request than a Map. */
  private readonly statusCounts = new Float64Array(600);
  private readonly closedLoop: boolean;
  private readonly errorsByKind = new Map<string, number>();
  /** Answers counted under a kind instead of their status (ConnectionEvents.onComplete's answerKind). */
  private readonly answerKinds = new Map<string, number>();
  private completed = 0;
  private failed = 0;
  private unsent = 0;
  private inFlightAtEnd = 0;
  /** Warm-up requests (before the window, so not measured) still unanswered when the drain ended. */
  private warmupUnanswered = 0;
  private overflowed = 0;
  private measuredIssued = 0;
  private totalBacklog = 0;
  private socketsOpened = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private startUs = 0;
  private measureStartUs = 0;
  private measureEndUs = Number.POSITIVE_INFINITY;
  /** When the window closed (end of duration, --requests reached, or abort); Infinity while open. */
  private closedAtUs = Number.POSITIVE_INFINITY;
  private lastOutcomeUs = 0;
  private issuing = false;
  private windowClosed = false;
  private scheduler: RateScheduler | undefined;
  private finish: (() => void) | undefined;
  private drainTimer: unknown = undefined;
  private endTimer: unknown = undefined;
  private readonly requestBytes: number;
  /** Connections × streams (HTTP/2, gRPC); connections otherwise. */
  private readonly slotCount: number;
  private readonly makeConnection: (id: number, events: ConnectionEvents) => ClientConnection;

  constructor(private readonly options: LoadOptions, private readonly deps: LoadRunnerDeps = {}) {
    this.clock = deps.clock ?? monotonicClock;
    // Without injected timers, run() makes its own (createLoadTimers) before anything is scheduled.
    this.timers = deps.timers ?? unsetTimers;
    this.closedLoop = options.qps === 0;
    const factory = connectionFactory(options);
    this.slotCount = factory.slots;
    this.requestBytes = factory.requestBytes;
    this.makeConnection = (id, events) => factory.make(id, events);
  }

  async run(): Promise<LoadResult> {
    const startTime = new Date().toISOString();
    const o = this.options;
    const events: ConnectionEvents = {
      onComplete: (conn, status, bytes, headerBytes, answerKind) => this.onComplete(conn, status, bytes, headerBytes, answerKind),
      onError: (conn, kind) => this.onError(conn, kind),
      onSocketOpened: (conn) => {
        this.socketsOpened += 1;
        (this.slots[conn.id] as Slot).socketsOpened += 1;
      },
    };
    for (let i = 0; i < this.slotCount; i += 1) {
      const conn = this.makeConnection(i, events);
      const slot: Slot = { conn, index: i, nextIndex: i, backlog: 0, backingOff: false, requestsCarried: 0, socketsOpened: 0 };
      this.slots.push(slot);
    }
    // Start-up stays outside the clock: the timer is calibrated and running and every keep-alive connection
    // is established before the first intended send time. Without injected timers the runner takes the
    // cheapest precise timer here (createLoadTimers: the addon's timerfd, else a helper thread), whose cost
    // does not grow with the rate the way the old 200 µs setImmediate spin did. At low rates it waits for its
    // deadlines under SCHED_FIFO where permitted (realtimeWait.ts: the send lag's tail is otherwise the scheduler's).
    if (this.deps.timers === undefined) {
      this.ownTimers = await createLoadTimers({ clock: this.clock, realtimeWait: true });
      this.timers = this.ownTimers.timers;
      this.spinWindowUs = this.ownTimers.callerSpinWindowUs;
    }
    await new Promise<void>((resolve) => { this.timers.setTimeout(resolve, 0); });
    await Promise.all(this.slots.map((s) => s.conn.preconnect()));

    warmUpHotPath(o.target.protocol);

    // Everything is set up before the clock is read: the first intended send time is "now".
    const done = new Promise<void>((resolve) => { this.finish = resolve; });
    const sweep = setInterval(() => this.sweepTimeouts(), timeoutSweepMs);
    const onAbort = (): void => this.closeWindow();
    this.deps.signal?.addEventListener('abort', onAbort);
    if (!this.closedLoop) {
      this.scheduler = new RateScheduler(o.qps, this.clock, this.timers,
        (intended, index) => this.onDue(intended, index),
        (intended) => this.admit(intended), this.spinWindowUs);
    }
    this.startUs = this.clock.nowUs();
    this.measureStartUs = this.startUs + o.warmupUs;
    if (o.durationUs !== undefined) this.measureEndUs = this.measureStartUs + o.durationUs;
    this.issuing = true;
    if (this.deps.signal?.aborted === true) this.closeWindow();
    else if (this.scheduler !== undefined) this.scheduler.start(this.startUs);
    else for (const s of this.slots) this.sendClosedLoop(s, this.startUs);

    const progress = this.startProgress();
    const onMeasuring = this.deps.onMeasuring;
    const measuringTimer = onMeasuring === undefined ? undefined : setTimeout(onMeasuring, Math.max(0, o.warmupUs / 1000));
    if (Number.isFinite(this.measureEndUs) && !this.windowClosed) this.armEndTimer();
    this.maybeFinish();

    await done;
    clearInterval(sweep);
    if (progress !== undefined) clearInterval(progress);
    if (measuringTimer !== undefined) clearTimeout(measuringTimer);
    if (this.endTimer !== undefined) this.timers.clearTimeout(this.endTimer);
    if (this.drainTimer !== undefined) this.timers.clearTimeout(this.drainTimer);
    this.deps.signal?.removeEventListener('abort', onAbort);
    this.scheduler?.stop();
    for (const s of this.slots) s.conn.close();
    this.ownTimers?.timers.close();
    return this.result(startTime);
  }

  private measured(intendedUs: Microseconds): boolean {
    return intendedUs >= this.measureStartUs;
  }

  /** Whether a request intended at this time belongs to the run (and counts it when measured). */
  private admit(intendedUs: Microseconds): boolean {
    if (!this.issuing || intendedUs >= this.measureEndUs) return false;
    if (intendedUs >= this.measureStartUs) {
      if (this.options.requests !== undefined && this.measuredIssued >= this.options.requests) return false;
      this.measuredIssued += 1;
    }
    return true;
  }

  private intendedUs(index: number): Microseconds {
    return (this.scheduler as RateScheduler).intendedUs(index);
  }

  /** Open loop: request `index` is due; it goes to its slot, now if the slot is free, else into its backlog. */
  private onDue(intendedUs: Microseconds, index: number): void {
    const slot = this.slots[index % this.slots.length] as Slot;
    slot.backlog += 1;
    this.totalBacklog += 1;
    this.sendNext(slot);
    if (this.totalBacklog > this.options.maxPending) this.dropOldest(slot);
    // The last measured request of a --requests run has been released: the schedule is done.
    if (this.options.requests !== undefined && this.measuredIssued >= this.options.requests && intendedUs >= this.measureStartUs) {
      this.issuing = false;
      this.scheduler?.stop();
    }
  }

  /** Over --max-pending: the oldest waiting request (of this slot, else of the longest-waiting one) is given up. */
  private dropOldest(preferred: Slot): void {
    let victim: Slot | undefined = preferred.backlog > 0 ? preferred : undefined;
    if (victim === undefined) {
      for (const s of this.slots) if (s.backlog > 0 && (victim === undefined || s.nextIndex < victim.nextIndex)) victim = s;
    }
    if (victim === undefined) return;
    const intended = this.intendedUs(victim.nextIndex);
    victim.nextIndex += this.slots.length;
    victim.backlog -= 1;
    this.totalBacklog -= 1;
    if (this.measured(intended)) {
      this.overflowed += 1;
      this.recordFailure(overflowKind, this.clock.nowUs() - intended);
    }
  }

  private sendNext(slot: Slot): void {
    if (slot.backlog === 0 || slot.conn.busy || slot.backingOff || this.windowClosed) return;
    const intended = this.intendedUs(slot.nextIndex);
    slot.nextIndex += this.slots.length;
    slot.backlog -= 1;
    this.totalBacklog -= 1;
    slot.conn.send(intended, this.clock.nowUs());
  }

  private sendClosedLoop(slot: Slot, now: Microseconds = this.clock.nowUs()): void {
    if (slot.conn.busy || slot.backingOff) return;
    if (!this.admit(now)) {
      if (this.issuing && this.options.requests !== undefined && this.measuredIssued >= this.options.requests) this.issuing = false;
      this.maybeFinish();
      return;
    }
    slot.conn.send(now, now);
  }

  private onComplete(conn: ClientConnection, status: number, bytes: number, headerBytes: number, answerKind?: string): void {
    const now = this.clock.nowUs();
    // An answered request was written; one without an answer is counted in countUnanswered.
    this.bytesSent += this.requestBytes;
    (this.slots[conn.id] as Slot).requestsCarried += 1;
    this.bytesReceived += bytes;
    if (this.measured(conn.intendedUs)) {
      const latencyUs = now - conn.intendedUs;
      this.latency.record(latencyUs);
      if (!this.closedLoop) {
        this.service.record(now - conn.sentUs);
        this.sendLag.record(conn.sentUs - conn.intendedUs);
      }
      // fortio's rule: an HTTP call is OK with a 2xx status (TCP reports 0 when the echo came back whole,
      // gRPC its status code: 0 is OK, every other code, 1–16, falls below 200 and so is an error).
      if (answerKind !== undefined) {
        this.errorLatency.record(latencyUs);
        this.answerKinds.set(answerKind, (this.answerKinds.get(answerKind) ?? 0) + 1);
      } else {
        if (status !== 0 && (status < 200 || status > 299)) this.errorLatency.record(latencyUs);
        this.statusCounts[status] = (this.statusCounts[status] as number) + 1;
      }
      this.responseBytes.record(bytes);
      this.headerBytes.record(headerBytes);
      this.completed += 1;
      this.lastOutcomeUs = now;
    }
    this.next(this.slots[conn.id] as Slot, now);
  }

  private onError(conn: ClientConnection, kind: string): void {
    const now = this.clock.nowUs();
    this.countUnanswered(conn);
    if (this.measured(conn.intendedUs)) {
      if (!this.closedLoop) {
        this.service.record(now - conn.sentUs);
        this.sendLag.record(conn.sentUs - conn.intendedUs);
      }
      this.recordFailure(kind, now - conn.intendedUs);
      this.lastOutcomeUs = now;
    }
    this.backOff(this.slots[conn.id] as Slot);
  }

  /**
   * Bytes sent count requests written to a connected socket (ClientConnection.requestWritten), as wrk and
   * fortio count bytes written: a refused connection sent nothing; likewise the request counts as carried by
   * its slot only when written. Called once per request that ends without an answer (error, timeout, drain),
   * before its connection forgets it.
   */
  private countUnanswered(conn: ClientConnection): void {
    if (!conn.requestWritten) return;
    this.bytesSent += this.requestBytes;
    (this.slots[conn.id] as Slot).requestsCarried += 1;
  }

  /** Every request recorded without a response goes through here: main and error histograms, and its kind. */
  private recordFailure(kind: string, latencyUs: Microseconds): void {
    this.latency.record(latencyUs);
    this.errorLatency.record(latencyUs);
    this.responseBytes.record(0);
    this.headerBytes.record(0);
    this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
    this.failed += 1;
  }

  /** Back off before the slot sends again, or a refused target turns the loop into a busy loop. */
  private backOff(slot: Slot): void {
    slot.backingOff = true;
    this.timers.setTimeout(() => {
      slot.backingOff = false;
      this.next(slot, this.clock.nowUs());
    }, reconnectBackoffUs / 1000);
  }

  private next(slot: Slot, now: Microseconds): void {
    if (this.closedLoop) this.sendClosedLoop(slot, now);
    else this.sendNext(slot);
    this.maybeFinish();
  }

  /** Closes the window at its end; a timer firing early (libuv's are whole milliseconds) is re-armed, or requests due before the end would be lost. */
  private armEndTimer(): void {
    this.endTimer = this.timers.setTimeout(() => {
      this.endTimer = undefined;
      if (this.clock.nowUs() < this.measureEndUs) this.armEndTimer();
      else this.closeWindow();
    }, Math.max(0, (this.measureEndUs - this.clock.nowUs()) / 1000));
  }

  /**
   * The window closes: no more sends. Requests due and not sent are recorded as `unsent` (latency = close
   * − intended); requests in flight get the drain (bounded by --drain) to complete, then count as
   * `in-flight-at-end`.
   */
  private closeWindow(): void {
    if (this.windowClosed) return;
    const now = this.clock.nowUs();
    // A wake-up running late must not lose requests whose intended time fell before the close.
    if (this.issuing) this.scheduler?.flush();
    this.issuing = false;
    this.windowClosed = true;
    this.closedAtUs = Math.min(now, this.measureEndUs);
    this.scheduler?.stop();
    if (!this.closedLoop) {
      for (const s of this.slots) {
        for (; s.backlog > 0; s.backlog -= 1, s.nextIndex += this.slots.length) {
          const intended = this.intendedUs(s.nextIndex);
          if (!this.measured(intended)) continue;
          this.unsent += 1;
          this.recordFailure(unsentKind, now - intended);
        }
      }
      this.totalBacklog = 0;
    }
    this.drainTimer = this.timers.setTimeout(() => this.endDrain(), this.options.drainUs / 1000);
    this.maybeFinish();
  }

  private endDrain(): void {
    this.drainTimer = undefined;
    const now = this.clock.nowUs();
    for (const s of this.slots) {
      if (!s.conn.busy) continue;
      const intended = s.conn.intendedUs;
      this.countUnanswered(s.conn);
      s.conn.abort();
      if (!this.measured(intended)) { this.warmupUnanswered += 1; continue; }
      this.inFlightAtEnd += 1;
      this.recordFailure(inFlightAtEndKind, now - intended);
    }
    this.finishNow();
  }

  private maybeFinish(): void {
    if (this.finish === undefined) return;
    if (!this.windowClosed) {
      // A --requests run closes its window once everything it issued has an outcome.
      if (this.issuing || this.totalBacklog > 0) return;
      if (this.slots.some((s) => s.conn.busy || s.backingOff)) return;
      this.closeWindow();
      return;
    }
    if (this.slots.some((s) => s.conn.busy)) return;
    this.finishNow();
  }

  private finishNow(): void {
    const f = this.finish;
    this.finish = undefined;
    f?.();
  }

  private sweepTimeouts(): void {
    const now = this.clock.nowUs();
    for (const s of this.slots) {
      const c = s.conn;
      if (!c.busy || now - c.sentUs <= this.options.timeoutUs) continue;
      const intended = c.intendedUs;
      this.countUnanswered(c);
      c.abort();
      if (this.measured(intended)) {
        if (!this.closedLoop) {
          this.service.record(now - c.sentUs);
          this.sendLag.record(c.sentUs - intended);
        }
        this.recordFailure(timeoutKind, now - intended);
        this.lastOutcomeUs = now;
      }
      this.timers.setTimeout(() => this.next(s, this.clock.nowUs()), 0);
    }
    if (this.windowClosed) this.maybeFinish();
  }

  private startProgress(): NodeJS.Timeout | undefined {
    const onProgress = this.deps.onProgress;
    if (onProgress === undefined) return undefined;
    let lastCompleted = 0;
    let lastUs = this.clock.nowUs();
    return setInterval(() => {
      const now = this.clock.nowUs();
      onProgress({
        elapsedUs: now - this.startUs,
        warmingUp: now < this.measureStartUs,
        completed: this.completed,
        errors: this.failed,
        qpsLastInterval: ((this.completed - lastCompleted) * 1e6) / Math.max(1, now - lastUs),
        p99Us: this.latency.count === 0 ? null : this.latency.percentileUs(99),
      });
      lastCompleted = this.completed;
      lastUs = now;
    }, this.deps.progressIntervalMs ?? 1000);
  }

  /** The measured window: see LoadResult.actualDurationUs. */
  private windowUs(): Microseconds {
    const o = this.options;
    // Open loop with --requests all issued (before any --duration ran out): the schedule's own span, n
    // intervals (0.5 qps × 3 requests = 6 s), so achieved QPS cannot exceed the offered rate.
    if (!this.closedLoop && o.requests !== undefined && this.measuredIssued >= o.requests) return (o.requests * 1e6) / o.qps;
    if (o.durationUs !== undefined && Number.isFinite(this.closedAtUs)) return Math.max(0, Math.min(this.closedAtUs, this.measureEndUs) - this.measureStartUs);
    if (!this.closedLoop && o.requests !== undefined) return Math.max(0, this.closedAtUs - this.measureStartUs);
    return Math.max(0, (this.lastOutcomeUs || this.closedAtUs) - this.measureStartUs);
  }

  /**
   * The window the achieved rate is read over (see LoadResult.rateWindowUs): in open loop, the requests due in
   * the window × the send interval, 1/qps. Each send opens its own interval, so n sends at 0, 1/qps, … stand for
   * n intervals; the measured window ends inside the last one, and n ÷ window read one send too many on a window
   * that is no whole number of intervals (3 qps for 334 ms: 2 sends, 6.0 qps). Closed loop: the window itself
   * (each answer closes an interval that began with the window).
   */
  private rateWindowUs(windowUs: Microseconds): Microseconds {
    if (this.closedLoop || this.measuredIssued === 0) return windowUs;
    return (this.measuredIssued * 1e6) / this.options.qps;
  }

  /**
   * Why the load loop waited for its deadlines as an ordinary task although it asked to wait realtime
   * (realtimeWait.ts), or undefined when it did wait realtime or never needed to (max mode, a send interval under
   * defaultRealtimeWait.minSleepUs, or timers without a timerfd). Read after run().
   */
  realtimeWaitOffReason(): string | undefined {
    // The send loop only sleeps ≥ minSleepUs between sends at ≤ 100 qps (the README's rule); a faster or max-mode
    // run asks for SCHED_FIFO at most while it waits for its end or drain timers, where no send can be late.
    if (this.closedLoop || 1e6 / this.options.qps < defaultRealtimeWait.minSleepUs) return undefined;
    const rt = this.ownTimers?.realtime;
    return rt !== undefined && (rt.state === 'refused' || rt.state === 'demoted') ? rt.reason : undefined;
  }

  private result(startTime: string): LoadResult {
    const o = this.options;
    if (this.closedLoop) {
      // Every request went out the moment its connection was free: service time is the latency, lag is zero.
      this.service.hdr.add(this.latency.hdr);
      if (this.latency.count > 0) this.sendLag.hdr.recordValueWithCount(0, this.latency.count);
    }
    const success = new LatencyHistogram();
    success.hdr.add(this.latency.hdr);
    success.hdr.subtract(this.errorLatency.hdr);
    const windowUs = this.windowUs();
    const rateWindowUs = this.rateWindowUs(windowUs);
    const interruptedBeforeWindow = this.deps.signal?.aborted === true && this.closedAtUs <= this.measureStartUs;
    const statusCounts: Record<string, number> = {};
    // gRPC statuses by name, as fortio's RetCodes ("OK", "UNAVAILABLE"), HTTP ones by number.
    const statusKey = o.target.protocol === 'grpc' ? grpcStatusName : String;
    this.statusCounts.forEach((n, code) => { if (n > 0) statusCounts[statusKey(code)] = n; });
    for (const [kind, n] of [...this.answerKinds].sort()) statusCounts[kind] = n;
    return {
      schemaVersion: loadResultSchemaVersion,
      tool: 'meshbench',
      version: this.deps.version ?? '0.0.0',
      startTime,
      labels: o.labels,
      options: {
        url: o.target.url,
        protocol: o.target.protocol,
        mode: o.qps > 0 ? 'fixed-rate' : 'max',
        qps: o.qps,
        connections: o.connections,
        streams: o.streams ?? 1,
        ...(o.grpc === undefined ? {} : { grpcMethod: o.grpc.method, grpcPingDelayUs: o.grpc.pingDelayNs / 1000, grpcHealthService: o.grpc.healthService }),
        durationUs: o.durationUs ?? null,
        requests: o.requests ?? null,
        warmupUs: o.warmupUs,
        payloadBytes: o.payloadBytes,
        keepAlive: o.keepAlive,
        timeoutUs: o.timeoutUs,
        headers: redactHeaders(o.headers),
        maxPending: o.maxPending,
        drainUs: o.drainUs,
      },
      actualDurationUs: windowUs,
      requestsCompleted: this.completed,
      requestsFailed: this.failed,
      rateWindowUs,
      // A rate over a 0 s window was never measured: null with the reason, not 0 qps.
      ...(rateWindowUs > 0 ? { actualQps: (this.completed * 1e6) / rateWindowUs }
        : { actualQps: null, actualQpsUnavailableReason: interruptedBeforeWindow ? 'the run was interrupted before the measured window began' : 'the measured window was 0 s long' }),
      latency: histogramRecord(this.latency, emptyLatencyReason({
        mode: this.closedLoop ? 'max' : 'fixed-rate', qps: o.qps, connections: this.slots.length, windowUs,
        interruptedBeforeWindow, warmupUnanswered: this.warmupUnanswered,
      })),
      errorLatency: histogramRecord(this.errorLatency, 'no request failed'),
      successLatency: histogramRecord(success, noSuccessReason(this.completed, this.errorsByKind)),
      serviceTime: histogramRecord(this.service, 'no request was sent in the measured window'),
      sendLag: histogramRecord(this.sendLag, 'no request was sent in the measured window'),
      statusCounts,
      errorsByKind: Object.fromEntries([...this.errorsByKind].sort()),
      socketsOpened: this.socketsOpened,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      requestsUnsent: this.unsent,
      requestsInFlightAtEnd: this.inFlightAtEnd,
      requestsOverflowed: this.overflowed,
      responseBytes: this.responseBytes.into(new FortioHistogram(0, 100)).export(),
      headerBytes: this.headerBytes.into(new FortioHistogram(0, 5)).export(),
      requestsPerConnection: this.slots.map((s) => s.requestsCarried),
      socketsPerConnection: this.slots.map((s) => s.socketsOpened),
    };
  }
}
