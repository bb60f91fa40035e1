import { monotonicClock, type Clock, type TimerApi } from './clock';
import { PreciseTimers } from './preciseTimers';
import type { ClientConnection, ConnectionEvents } from './clientConnection';
import { buildHttpRequest, HttpConnection } from './httpConnection';
import { LatencyHistogram } from './latencyHistogram';
import type { LoadOptions } from './loadOptions';
import { loadResultSchemaVersion, type HistogramRecord, type LoadResult } from './loadResult';
import { RateScheduler } from './rateScheduler';
import { TcpConnection } from './tcpConnection';
import type { Microseconds } from './units';

export interface LoadProgress {
  readonly elapsedUs: Microseconds;
  readonly warmingUp: boolean;
  readonly completed: number;
  readonly errors: number;
  readonly qpsLastInterval: number;
  readonly p99Us: Microseconds;
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

/** After a connection error, wait this long before the connection is used again, so a refused target is not hammered. */
const reconnectBackoffUs = 10_000;
/** How long to wait for requests still in flight when the run ends. */
const drainGraceUs = 2_000_000;

/**
 * Drives connections with either an open-loop schedule (qps > 0) or a closed loop (qps = 0, each
 * connection sends again as soon as its response arrives). Records three histograms per request:
 * latency from the intended time, service time from the actual send, and the client's own send lag.
 */
export class LoadRunner {
  private readonly clock: Clock;
  private readonly timers: TimerApi;
  private readonly connections: ClientConnection[] = [];
  private readonly idle: ClientConnection[] = [];
  private readonly queue: Microseconds[] = [];
  private queueHead = 0;
  private readonly latency = new LatencyHistogram();
  private readonly service = new LatencyHistogram();
  private readonly sendLag = new LatencyHistogram();
  /** Indexed by status code: a typed array costs less per request than a Map. */
  private readonly statusCounts = new Float64Array(600);
  /** Closed loop: latency = service time and send lag = 0, so only one histogram is recorded per request. */
  private readonly closedLoop: boolean;
  private readonly errorsByKind = new Map<string, number>();
  private completed = 0;
  private failed = 0;
  private measuredIssued = 0;
  private socketsOpened = 0;
  private bytesSent = 0;
  private bytesReceived = 0;
  private startUs = 0;
  private measureStartUs = 0;
  private measureEndUs = Number.POSITIVE_INFINITY;
  private lastCompletionUs = 0;
  private issuing = false;
  private scheduler: RateScheduler | undefined;
  private finish: (() => void) | undefined;
  private drainTimer: unknown = undefined;
  private readonly requestBytes: number;
  private readonly makeConnection: (id: number, events: ConnectionEvents) => ClientConnection;

  constructor(private readonly options: LoadOptions, private readonly deps: LoadRunnerDeps = {}) {
    this.clock = deps.clock ?? monotonicClock;
    this.timers = deps.timers ?? new PreciseTimers();
    this.closedLoop = options.qps === 0;
    const payload = Buffer.alloc(options.payloadBytes, 0x61);
    if (options.target.protocol === 'http') {
      const request = buildHttpRequest(options.target, payload, options.headers, options.keepAlive);
      this.requestBytes = request.length;
      this.makeConnection = (id, events) => new HttpConnection(id, options.target, request, options.keepAlive, events);
    } else {
      const message = payload.length > 0 ? payload : Buffer.from('meshbench\n');
      this.requestBytes = message.length;
      this.makeConnection = (id, events) => new TcpConnection(id, options.target, message.length, message, options.keepAlive, events);
    }
  }

  async run(): Promise<LoadResult> {
    const startTime = new Date().toISOString();
    const o = this.options;
    const events: ConnectionEvents = {
      onComplete: (conn, status, bytes) => this.onComplete(conn, status, bytes),
      onError: (conn, kind) => this.onError(conn, kind),
      onSocketOpened: () => { this.socketsOpened += 1; },
    };
    for (let i = 0; i < o.connections; i += 1) {
      const c = this.makeConnection(i, events);
      this.connections.push(c);
      this.idle.push(c);
    }
    this.startUs = this.clock.nowUs();
    this.measureStartUs = this.startUs + o.warmupUs;
    if (o.durationUs !== undefined) this.measureEndUs = this.measureStartUs + o.durationUs;
    this.issuing = true;

    const done = new Promise<void>((resolve) => { this.finish = resolve; });
    const sweep = setInterval(() => this.sweepTimeouts(), 50);
    const progress = this.startProgress();
    const onAbort = (): void => this.stopIssuing();
    const onMeasuring = this.deps.onMeasuring;
    const measuringTimer = onMeasuring === undefined ? undefined : setTimeout(onMeasuring, Math.max(0, this.options.warmupUs / 1000));
    this.deps.signal?.addEventListener('abort', onAbort);
    if (this.deps.signal?.aborted === true) this.stopIssuing();

    if (o.qps > 0) {
      this.scheduler = new RateScheduler(o.qps, this.clock, this.timers,
        (intended) => { this.queue.push(intended); this.dispatch(); },
        (intended) => this.issuing && this.admit(intended));
      this.scheduler.start(this.startUs);
    } else {
      for (const c of this.idle.splice(0)) this.sendClosedLoop(c);
    }
    // Ends the run at the end of the window even if the closed loop is stuck on unresponsive connections.
    const endTimer = Number.isFinite(this.measureEndUs)
      ? setTimeout(() => this.stopIssuing(), Math.max(0, (this.measureEndUs - this.clock.nowUs()) / 1000) + 1)
      : undefined;

    await done;
    clearInterval(sweep);
    if (progress !== undefined) clearInterval(progress);
    if (endTimer !== undefined) clearTimeout(endTimer);
    if (measuringTimer !== undefined) clearTimeout(measuringTimer);
    if (this.drainTimer !== undefined) this.timers.clearTimeout(this.drainTimer);
    this.deps.signal?.removeEventListener('abort', onAbort);
    this.scheduler?.stop();
    for (const c of this.connections) c.close();
    if (this.timers instanceof PreciseTimers) this.timers.close();
    return this.result(startTime);
  }

  /** Whether a request intended at this time belongs to the run (and counts it when measured). */
  private admit(intendedUs: Microseconds): boolean {
    if (intendedUs >= this.measureEndUs) return false;
    if (intendedUs >= this.measureStartUs) {
      if (this.options.requests !== undefined && this.measuredIssued >= this.options.requests) return false;
      this.measuredIssued += 1;
    }
    return true;
  }

  private sendClosedLoop(conn: ClientConnection, now: Microseconds = this.clock.nowUs()): void {
    if (!this.issuing || !this.admit(now)) {
      this.stopIssuing();
      this.idle.push(conn);
      this.maybeFinish();
      return;
    }
    this.bytesSent += this.requestBytes;
    conn.send(now, now);
  }

  private dispatch(): void {
    while (this.queueHead < this.queue.length && this.idle.length > 0) {
      const conn = this.idle.pop() as ClientConnection;
      const intended = this.queue[this.queueHead] as Microseconds;
      this.queueHead += 1;
      this.bytesSent += this.requestBytes;
      conn.send(intended, this.clock.nowUs());
    }
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private onComplete(conn: ClientConnection, status: number, bytes: number): void {
    const now = this.clock.nowUs();
    this.bytesReceived += bytes;
    if (conn.intendedUs >= this.measureStartUs) {
      this.latency.record(now - conn.intendedUs);
      if (!this.closedLoop) {
        this.service.record(now - conn.sentUs);
        this.sendLag.record(conn.sentUs - conn.intendedUs);
      }
      this.statusCounts[status] = (this.statusCounts[status] as number) + 1;
      this.completed += 1;
      this.lastCompletionUs = now;
    }
    if (this.closedLoop) this.sendClosedLoop(conn, now);
    else this.release(conn);
  }

  private onError(conn: ClientConnection, kind: string): void {
    if (conn.intendedUs >= this.measureStartUs) {
      this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
      this.failed += 1;
      this.lastCompletionUs = this.clock.nowUs();
    }
    // Back off before reusing it, or a refused target turns the closed loop into a busy loop.
    this.timers.setTimeout(() => this.release(conn), reconnectBackoffUs / 1000);
  }

  private release(conn: ClientConnection): void {
    if (this.options.qps === 0) {
      this.sendClosedLoop(conn);
      return;
    }
    this.idle.push(conn);
    this.dispatch();
    this.maybeFinish();
  }

  private stopIssuing(): void {
    if (!this.issuing) return;
    this.issuing = false;
    this.scheduler?.stop();
    // In-flight requests get a grace period, then are abandoned (counted as timeouts).
    this.drainTimer = this.timers.setTimeout(() => {
      for (const c of this.connections) if (c.busy) this.abandon(c, 'timeout');
      this.finishNow();
    }, drainGraceUs / 1000);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.issuing && !(this.scheduler !== undefined && this.schedulerExhausted())) return;
    if (this.issuing) this.stopIssuing();
    if (this.connections.some((c) => c.busy)) return;
    this.finishNow();
  }

  private schedulerExhausted(): boolean {
    // The scheduler stops itself when admit() refuses; it then releases nothing more.
    const s = this.scheduler as RateScheduler;
    const next = s.intendedUs(s.releasedCount);
    return next >= this.measureEndUs || (this.options.requests !== undefined && this.measuredIssued >= this.options.requests);
  }

  private finishNow(): void {
    const f = this.finish;
    this.finish = undefined;
    f?.();
  }

  private abandon(conn: ClientConnection, kind: string): void {
    conn.abort();
    if (conn.intendedUs >= this.measureStartUs) {
      this.errorsByKind.set(kind, (this.errorsByKind.get(kind) ?? 0) + 1);
      this.failed += 1;
    }
  }

  private sweepTimeouts(): void {
    const now = this.clock.nowUs();
    for (const c of this.connections) {
      if (c.busy && now - c.sentUs > this.options.timeoutUs) {
        this.abandon(c, 'timeout');
        this.timers.setTimeout(() => this.release(c), 0);
      }
    }
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
        p99Us: this.latency.percentileUs(99),
      });
      lastCompleted = this.completed;
      lastUs = now;
    }, this.deps.progressIntervalMs ?? 1000);
  }

  private result(startTime: string): LoadResult {
    const o = this.options;
    const record = (h: LatencyHistogram): HistogramRecord => ({ ...h.summary(), histogram: h.encode() });
    if (this.closedLoop) {
      // Every request went out the moment its connection was free: service time is the latency, lag is zero.
      this.service.hdr.add(this.latency.hdr);
      if (this.completed > 0) this.sendLag.hdr.recordValueWithCount(0, this.completed);
    }
    const actualDurationUs = Math.max(0, (this.lastCompletionUs || this.clock.nowUs()) - this.measureStartUs);
    const statusCounts: Record<string, number> = {};
    this.statusCounts.forEach((n, code) => { if (n > 0) statusCounts[String(code)] = n; });
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
        durationUs: o.durationUs ?? null,
        requests: o.requests ?? null,
        warmupUs: o.warmupUs,
        payloadBytes: o.payloadBytes,
        keepAlive: o.keepAlive,
        timeoutUs: o.timeoutUs,
        headers: o.headers,
      },
      actualDurationUs,
      requestsCompleted: this.completed,
      requestsFailed: this.failed,
      actualQps: actualDurationUs > 0 ? (this.completed * 1e6) / actualDurationUs : 0,
      latency: record(this.latency),
      serviceTime: record(this.service),
      sendLag: record(this.sendLag),
      statusCounts,
      errorsByKind: Object.fromEntries([...this.errorsByKind].sort()),
      socketsOpened: this.socketsOpened,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      requestsUnsent: this.queue.length - this.queueHead,
    };
  }
}
