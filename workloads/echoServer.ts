import net from 'node:net';
import { monotonicClock, type Clock, type TimerApi } from './clock';
import { createLoadTimers, type LoadTimers } from './loadTimers';
import { DeadlineQueue } from './deadlineQueue';
import { hasCalibration, noControls, parseControls, resolveReply, type EchoControls, type ResolvedReply } from './echoControls';
import { burnCpu, openChurner, openCopier, startSwitcher, type Churner, type Copier, type ControlPath, type Switcher } from './calibrationWork';
import { reasonPhrase } from './httpStatus';
import { defaultRequestLimits, RequestParser, type RequestHead, type RequestParseError, type RequestParserLimits } from './httpRequestParser';
import type { Bytes, Microseconds } from './units';

/** `http`: HTTP/1.x keep-alive; `tcp`: every byte echoed back in order. */
export type EchoProtocol = 'http' | 'tcp';

/** How the echo server listens and behaves; every field but the address has a default. */
export interface EchoServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly protocol: EchoProtocol;
  /** Server-wide defaults; a request's query string overrides them per key (fortio behaviour). */
  readonly defaults?: EchoControls;
  /** Request head and body limits (defaults: 16 KiB head as Node's http, 64 MiB body). */
  readonly limits?: RequestParserLimits;
  /**
   * A request head must arrive whole within this long of its first byte, else `408` and a close
   * (Node's `server.headersTimeout`, nginx's `client_header_timeout`): slowloris holds no connection
   * for ever. Default 60 000 ms; checked once a second.
   */
  readonly headersTimeoutMs?: number;
  /** Uniform [0,1) source for the weighted controls; injected for tests. */
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly timers?: TimerApi;
}

/** Counters since `listen`; bytes are on-the-wire bytes (heads included). */
export interface EchoServerStats {
  connectionsAccepted: number;
  /** Requests answered with a reply produced by the controls (not the rejections below). */
  requests: number;
  bytesReceived: Bytes;
  bytesSent: Bytes;
  /** Requests rejected (400, 408, 413, 417, 431) and the reason codes, llhttp's `HPE_*` or ours. */
  rejected: number;
  rejectedByCode: Record<string, number>;
  /** Interim `100 Continue` responses sent (RFC 9110 §10.1.1). */
  continuesSent: number;
  /** Exceptions caught while serving one connection: that connection was closed, the server went on. */
  internalErrors: number;
  /** What the calibration controls did (issue 14), counted by the server itself. */
  calibration: {
    /** Bytes copied into and out of the kernel by `copies` (2 × reply bytes × N per request). */
    bytesCopied: Bytes;
    /** Connections opened and closed by `connects`, and the ones that failed to open. */
    connectionsChurned: number;
    connectFailures: number;
    /** Hand-offs to the helper thread by `switches` (≥ N per request: a hand-off without a sleep is repeated). */
    switchHandoffs: number;
    /** Which mechanism did `connects` and `switches` (ControlPath: the addon's native verbs or the Node fallback); absent until first used. */
    connectsPath?: ControlPath;
    switchesPath?: ControlPath;
    copiesPath?: ControlPath;
  };
}

/** The calibration helpers, each opened on the first request that needs it and kept until close. */
interface CalibrationHelpers {
  copier?: Copier;
  copierOpening?: Promise<void>;
  churner?: Churner;
  churnerOpening?: Promise<void>;
  switcher?: Switcher;
  switcherOpening?: Promise<void>;
}

/** One request on a connection, from its head until its reply is written. */
interface Exchange {
  head: RequestHead | undefined;
  body: Buffer[];
  bodyBytes: Bytes;
  complete: boolean;
  continueSent: boolean;
  error: RequestParseError | { code: string; reason: string; status: number } | undefined;
}

/** How the reply states the connection's fate: `close`, `keep-alive` (HTTP/1.0 asked for it), or nothing (HTTP/1.1 default). */
type ConnectionHeader = 'close' | 'keep-alive' | 'none';

/** Pipelined requests buffered per connection before reading pauses (a client that never reads replies costs bounded memory). */
const maxQueuedRequests = 64;
const resumeQueuedRequests = 16;
const continueLine = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/*
 * Framing by llhttp (httpRequestParser.ts) instead of the former hand-written indexOf+regex parser.
 * Measured under the machine lock, `wrk -t1 -c16 -d4s` on CPU 0 against the server on CPU 1, 5
 * interleaved runs each, server CPU (utime+stime) per request: hand-written median 22.6 µs
 * (15.3–25.4), llhttp median 22.6 µs (22.1–28.6). The parse itself is ~1 µs dearer in a micro-benchmark
 * (2.2 vs 1.25 µs for wrk's GET) but that is lost in the per-request syscall and event-loop cost, so the
 * library wins by the project's rule.
 */

/**
 * HTTP/1.x keep-alive and raw TCP echo server over `net`, with fortio's per-request controls.
 * No input a client can send stops it: a request that cannot be framed gets its status (400, 413, 431,
 * 408 for a head that never ends, 417 for an unknown expectation) with `Connection: close`, earlier
 * pipelined requests are answered first, and it is counted in `stats`.
 * HTTP per RFC 9112: persistence as §9.3 (HTTP/1.0 keep-alive is confirmed with `Connection: keep-alive`),
 * chunked bodies with trailers (§7.1), `Expect: 100-continue` (RFC 9110 §10.1.1), HEAD without a body.
 */
export class EchoServer {
  readonly stats: EchoServerStats = {
    connectionsAccepted: 0, requests: 0, bytesReceived: 0, bytesSent: 0, rejected: 0, rejectedByCode: {}, continuesSent: 0, internalErrors: 0,
    calibration: { bytesCopied: 0, connectionsChurned: 0, connectFailures: 0, switchHandoffs: 0 },
  };
  private readonly helpers: CalibrationHelpers = {};
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly defaults: EchoControls;
  private readonly random: () => number;
  private readonly clock: Clock;
  /** Made in listen() from createLoadTimers() unless timers were injected (then at construction). */
  private deadlines: DeadlineQueue | undefined;
  /** The timers listen() made (closed by close()); injected timers belong to the caller. */
  private ownTimers: LoadTimers | undefined;
  private readonly limits: RequestParserLimits;
  private readonly headersTimeoutUs: Microseconds;
  /** Connections whose current request head is incomplete, with when its first byte came. */
  private readonly headsInProgress = new Map<net.Socket, { sinceUs: Microseconds; timeout: () => void }>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly payloadCache = new Map<number, Buffer>();
  private readonly headCache = new Map<string, Buffer>();
  /** The reply to a plain request without controls, built once. */
  private readonly plainReply: Buffer | undefined;
  /** Without a size control the reply echoes the request body, so the prebuilt reply fits only empty bodies. */
  private readonly plainEchoes: boolean;
  /** The server defaults' calibration work for a plain request (fixed amounts): done before plainReply is written. */
  private readonly plainWork: ResolvedReply | undefined;

  constructor(private readonly options: EchoServerOptions) {
    this.defaults = options.defaults ?? noControls;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? monotonicClock;
    this.limits = options.limits ?? defaultRequestLimits;
    this.headersTimeoutUs = (options.headersTimeoutMs ?? 60_000) * 1000;
    // Injected timers (tests' fakes, libuv's) wake in whole milliseconds: a 1.5 ms spin window covers that.
    if (options.timers !== undefined) this.deadlines = new DeadlineQueue(this.clock, options.timers, 1500);
    const d = this.defaults;
    const fixed = <T>(w: readonly { value: T; percent: number }[]): boolean => w.length === 0 || (w.length === 1 && (w[0] as { percent: number }).percent >= 100);
    const staticDefaults = d.delayUs.length === 0 && d.status.length === 0 && d.closePercent === 0 && fixed(d.sizeBytes)
      && fixed(d.burnUs) && fixed(d.copies) && fixed(d.connects) && fixed(d.switches);
    this.plainEchoes = d.sizeBytes.length === 0;
    if (staticDefaults) {
      const size = d.sizeBytes[0]?.value ?? 0;
      this.plainReply = Buffer.concat([this.head(200, size, 'none'), this.payload(size)]);
      // A calibration variant (issue 14) is the plain server plus its known work: the same prebuilt reply and the
      // same synchronous path, so the breakdown sees the work and not a slower reply path (the general path's
      // parse, resolve, setImmediate and head building cost tens of µs of user space per request).
      if (hasCalibration(d)) this.plainWork = resolveReply(d, () => 0);
    }
    // allowHalfOpen: a client that shuts down its sending side after the request still gets its replies.
    this.server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /**
   * Listens; first, without injected timers, makes the delayed replies' timer: createLoadTimers() (the addon's
   * timerfd with a calibrated early wake, else a helper thread; ~130 ms of calibration), which costs less CPU
   * per delayed reply than PreciseTimers' helper thread plus 200 µs spin (measured: README "What one request costs").
   */
  async listen(): Promise<net.AddressInfo> {
    if (this.deadlines === undefined) {
      this.ownTimers = await createLoadTimers({ clock: this.clock });
      this.deadlines = new DeadlineQueue(this.clock, this.ownTimers.timers, this.ownTimers.callerSpinWindowUs);
    }
    if (this.plainWork !== undefined) await this.warmPlainWork(this.plainWork);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        if (this.options.protocol === 'http') {
          this.sweepTimer = setInterval(() => this.sweepHeads(), Math.min(1000, Math.max(10, this.headersTimeoutUs / 4000)));
          this.sweepTimer.unref();
        }
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /**
   * Opens the default calibration work's helpers before the first request and runs the work a few hundred
   * times exactly as a request runs it (doSyncWork and the churn, same amounts), so V8 has compiled that code
   * (and the burner measured its loop) before a measured window: a variant's server otherwise compiles its
   * calibration path during the window, user space the control did not ask for. An earlier warm-up passed one
   * copy where requests pass N (fs.writeSync where requests take fs.writevSync) and never churned. Not counted
   * in the stats.
   */
  private async warmPlainWork(work: ResolvedReply): Promise<void> {
    const h = await this.calibrationHelpers(work);
    const before = { ...this.stats.calibration }; // the warm-up's counts are put back: they are not requests'
    try {
      // 200 rounds: a few hundred calls make V8's TurboFan tier (Node 20) optimise a function's hot loop. The
      // same code with the burn capped at 100 µs a round (at most 20 ms of burning: a burn may be up to 1 s).
      const round: ResolvedReply = { ...work, burnUs: Math.min(work.burnUs, 100) };
      for (let i = 0; i < 200; i += 1) {
        this.doSyncWork(round, h, this.plainReply);
        if (work.connects > 0 && h.churner?.path === 'native') h.churner.churn(work.connects, () => undefined);
      }
    } finally {
      Object.assign(this.stats.calibration, before);
    }
  }

  close(): Promise<void> {
    this.deadlines?.clear();
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.ownTimers?.timers.close();
    for (const s of this.sockets) s.destroy();
    this.helpers.copier?.close();
    this.helpers.churner?.close();
    void this.helpers.switcher?.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsAccepted += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.options.protocol === 'tcp') this.serveTcp(socket);
    else this.serveHttp(socket);
  }

  /**
   * Raw echo. With a delay control every chunk is due at max(previous due time, arrival + delay), so a
   * short delay drawn after a long one never overtakes it: the byte stream comes back in order.
   */
  private serveTcp(socket: net.Socket): void {
    const delay = this.defaults.delayUs.length > 0;
    const due: { atUs: Microseconds; chunk: Buffer }[] = [];
    let lastDueUs = 0;
    const flush = (): void => {
      const now = this.clock.nowUs();
      while (due.length > 0 && (due[0] as { atUs: number }).atUs <= now) {
        const d = due.shift() as { chunk: Buffer };
        if (!socket.destroyed) socket.write(d.chunk);
      }
      if (due.length > 0) (this.deadlines as DeadlineQueue).schedule((due[0] as { atUs: number }).atUs, flush);
      else if (socket.readableEnded && !socket.destroyed) socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesReceived += chunk.length;
      this.stats.bytesSent += chunk.length;
      if (!delay) {
        socket.write(chunk);
        return;
      }
      const reply = resolveReply(this.defaults, this.random);
      lastDueUs = Math.max(lastDueUs, this.clock.nowUs() + reply.delayUs);
      due.push({ atUs: lastDueUs, chunk });
      if (due.length === 1) (this.deadlines as DeadlineQueue).schedule(lastDueUs, flush);
    });
    socket.on('end', () => { if (due.length === 0) socket.end(); });
  }

  private serveHttp(socket: net.Socket): void {
    const queue: Exchange[] = [];
    let busy = false; // a delayed reply is outstanding: later pipelined requests wait for it
    let paused = false;
    let peerEnded = false;
    let finished = false; // a reply closed the connection: nothing more is written

    const finish = (): void => {
      finished = true;
      queue.length = 0;
      this.headsInProgress.delete(socket);
      // The native parser is freed on 'close', never here: finish can run inside one of its callbacks.
      socket.end();
    };

    const drain = (): void => {
      while (queue.length > 0 && !busy && !finished && !socket.destroyed) {
        const ex = queue[0] as Exchange;
        if (ex.error !== undefined) {
          this.reject(socket, ex.error);
          finish();
          return;
        }
        const head = ex.head as RequestHead;
        if (head.expect !== undefined && (head.versionMajor > 1 || head.versionMinor >= 1)) {
          if (head.expect !== '100-continue') {
            this.reject(socket, { code: 'EXPECTATION_FAILED', reason: `unsupported expectation "${head.expect}"`, status: 417 });
            finish();
            return;
          }
          if (!ex.complete && !ex.continueSent) {
            ex.continueSent = true;
            this.stats.continuesSent += 1;
            this.stats.bytesSent += continueLine.length;
            socket.write(continueLine);
          }
        }
        if (!ex.complete) break;
        queue.shift();
        const close = this.answer(socket, ex, (closeNow) => {
          busy = false;
          if (socket.destroyed || finished) return;
          guarded(closeNow ? finish : drain);
        });
        if (close === 'later') { busy = true; break; }
        if (close) { finish(); return; }
      }
      if (paused && queue.length <= resumeQueuedRequests) { paused = false; socket.resume(); }
      if (peerEnded && queue.length === 0 && !busy && !finished) finish();
    };

    // One connection's fault stays on that connection: close it, count it, serve the others.
    const guarded = (fn: () => void): void => {
      try {
        fn();
      } catch {
        this.stats.internalErrors += 1;
        finished = true;
        this.headsInProgress.delete(socket);
        socket.destroy();
      }
    };

    const parser = new RequestParser({
      onHead: (head) => {
        if (finished) return;
        queue.push({ head, body: [], bodyBytes: 0, complete: false, continueSent: false, error: undefined });
        this.headsInProgress.delete(socket);
        if (head.expect !== undefined) drain(); // the client may wait for the 100 before sending the body
      },
      onBody: (chunk) => {
        const ex = queue[queue.length - 1];
        if (finished || ex === undefined) return;
        ex.body.push(chunk);
        ex.bodyBytes += chunk.length;
      },
      onComplete: () => {
        const ex = queue[queue.length - 1];
        if (!finished && ex !== undefined) ex.complete = true;
      },
      onError: (error) => {
        this.headsInProgress.delete(socket);
        if (finished) return;
        const last = queue[queue.length - 1];
        // The request being framed when it failed is replaced by its rejection; complete ones before it are answered first.
        if (last !== undefined && !last.complete) last.error = error;
        else queue.push({ head: undefined, body: [], bodyBytes: 0, complete: true, continueSent: false, error });
      },
    }, this.limits);

    socket.on('data', (chunk: Buffer) => guarded(() => {
      if (finished) return;
      this.stats.bytesReceived += chunk.length;
      parser.push(chunk);
      if (parser.inHead && !parser.stopped) {
        if (!this.headsInProgress.has(socket)) {
          this.headsInProgress.set(socket, {
            sinceUs: this.clock.nowUs(),
            timeout: () => guarded(() => {
              queue.push({ head: undefined, body: [], bodyBytes: 0, complete: true, continueSent: false,
                error: { code: 'HEADERS_TIMEOUT', reason: 'request head not complete in time', status: 408 } });
              drain();
            }),
          });
        }
      } else this.headsInProgress.delete(socket);
      drain();
      if (!paused && !finished && queue.length >= maxQueuedRequests) { paused = true; socket.pause(); }
    }));
    socket.on('end', () => guarded(() => {
      peerEnded = true;
      if (finished) return;
      parser.end();
      drain();
    }));
    socket.on('close', () => {
      this.headsInProgress.delete(socket);
      parser.close();
    });
  }

  /** Closes connections whose request head has been arriving for longer than the headers timeout. */
  private sweepHeads(): void {
    const now = this.clock.nowUs();
    for (const [socket, h] of this.headsInProgress) {
      if (now - h.sinceUs < this.headersTimeoutUs) continue;
      this.headsInProgress.delete(socket);
      h.timeout();
    }
  }

  /**
   * Writes the reply to one complete request. Returns true when the connection must close after it,
   * false to go on, or 'later' when the reply is delayed (`resume` runs after it is written).
   */
  private answer(socket: net.Socket, ex: Exchange, resume: (close: boolean) => void): boolean | 'later' {
    const head = ex.head as RequestHead;
    const http10 = head.versionMajor === 1 && head.versionMinor === 0;
    const clientClose = !head.keepAlive || head.upgrade;
    const isHead = head.method === 'HEAD';
    const target = head.target;
    const q = target.indexOf('?');
    if (q < 0 && this.plainReply !== undefined && !clientClose && !http10 && !isHead && (ex.bodyBytes === 0 || !this.plainEchoes)
      && (this.plainWork === undefined || this.plainWorkReady())) {
      this.stats.requests += 1;
      if (this.plainWork !== undefined) {
        const work = this.plainWork;
        const reply = this.plainReply;
        if (!this.syncWorkOrReject(socket, work, this.helpers, reply)) return true;
        const churner = this.helpers.churner as Churner;
        if (work.connects > 0 && churner.path === 'native') {
          churner.churn(work.connects, (failed) => { // synchronous: done before the reply below
            this.stats.calibration.connectionsChurned += work.connects - failed;
            this.stats.calibration.connectFailures += failed;
          });
        } else if (work.connects > 0) {
          // Connecting waits for the event loop: the reply follows the last close (always after this returns).
          churner.churn(work.connects, (failed) => {
            this.stats.calibration.connectionsChurned += work.connects - failed;
            this.stats.calibration.connectFailures += failed;
            if (socket.destroyed) return;
            this.stats.bytesSent += reply.length;
            socket.write(reply);
            resume(false);
          });
          return 'later';
        }
      }
      this.stats.bytesSent += this.plainReply.length;
      socket.write(this.plainReply);
      return false;
    }
    let controls = this.defaults;
    if (q >= 0) {
      try {
        controls = parseControls(target.slice(q + 1), this.defaults);
      } catch (err) {
        // Whatever the query holds is the client's doing: a 400 naming it, never an exit.
        this.reject(socket, { code: 'BAD_CONTROL', reason: err instanceof Error ? err.message : String(err), status: 400 });
        return true;
      }
    }
    this.stats.requests += 1;
    const reply = resolveReply(controls, this.random);
    const body = reply.sizeBytes === undefined ? concatBody(ex) : this.payload(reply.sizeBytes);
    const close = reply.close || clientClose;
    const connection: ConnectionHeader = close ? 'close' : http10 ? 'keep-alive' : 'none';
    const send = (): void => this.reply(socket, reply.status, body, connection, isHead);
    const calibrated = reply.burnUs > 0 || reply.copies > 0 || reply.connects > 0 || reply.switches > 0;
    if (!calibrated && reply.delayUs <= 0) {
      send();
      return close;
    }
    // Known work first (burn, switches, copies, then connects), then the delay, then the reply.
    const afterWork = (): void => {
      if (socket.destroyed) return;
      if (reply.delayUs <= 0) {
        send();
        resume(close);
        return;
      }
      (this.deadlines as DeadlineQueue).schedule(this.clock.nowUs() + reply.delayUs, () => {
        if (socket.destroyed) return;
        send();
        resume(close);
      });
    };
    if (!calibrated) {
      afterWork();
      return 'later';
    }
    const run = (h: CalibrationHelpers): void => {
      if (!this.syncWorkOrReject(socket, reply, h, reply.copies > 0 ? this.replyBytes(reply.status, body, connection, isHead) : undefined)) { resume(true); return; }
      if (reply.connects <= 0) { afterWork(); return; }
      (h.churner as Churner).churn(reply.connects, (failed) => {
        this.stats.calibration.connectionsChurned += reply.connects - failed;
        this.stats.calibration.connectFailures += failed;
        afterWork();
      });
    };
    const helpers = this.calibrationHelpers(reply);
    // Deferred even when the helpers are ready, so `resume` never runs before this returns 'later'.
    if (helpers instanceof Promise) helpers.then(run, () => { this.stats.internalErrors += 1; socket.destroy(); });
    else setImmediate(() => { if (!socket.destroyed) run(helpers); });
    return 'later';
  }

  /** Burn, switches, then copies of `replyBytes` (the synchronous part of the known work), counted in stats. */
  private doSyncWork(reply: ResolvedReply, h: CalibrationHelpers, replyBytes: Buffer | undefined): void {
    burnCpu(reply.burnUs);
    if (reply.switches > 0) this.stats.calibration.switchHandoffs += (h.switcher as Switcher).switches(reply.switches);
    if (reply.copies > 0) this.stats.calibration.bytesCopied += (h.copier as Copier).pass(replyBytes as Buffer, reply.copies);
  }

  /**
   * doSyncWork, or false when the addon's switcher gave up (BpfError ENOSWITCH: its helper always answered
   * before the serving thread waited, so the switches asked for could not be made): then the request is
   * answered 500 with that reason and the connection closes, as every rejection does, instead of being closed
   * with no answer (the client would wait out its timeout). Any other failure (the Node switcher's helper not
   * answering, a copy's socket pair failing) is answered 500 CALIBRATION_FAILED and counted in internalErrors.
   */
  private syncWorkOrReject(socket: net.Socket, reply: ResolvedReply, h: CalibrationHelpers, replyBytes: Buffer | undefined): boolean {
    try {
      this.doSyncWork(reply, h, replyBytes);
      return true;
    } catch (err) {
      // Any failure of the known work is answered, never thrown: on the query-string path this runs from
      // setImmediate or a promise, where a throw is uncaught and would end the whole server.
      const enoswitch = (err as { code?: unknown }).code === 'ENOSWITCH';
      if (!enoswitch) this.stats.internalErrors += 1;
      this.reject(socket, { code: enoswitch ? 'ENOSWITCH' : 'CALIBRATION_FAILED', reason: err instanceof Error ? err.message : String(err), status: 500 });
      return false;
    }
  }

  /** True when a plain request's default calibration helpers are open; opens them on the first call (that request takes the general path meanwhile). */
  private plainWorkReady(): boolean {
    const h = this.calibrationHelpers(this.plainWork as ResolvedReply);
    if (h instanceof Promise) { h.catch(() => undefined); return false; }
    return true;
  }

  /** The helpers a reply's calibration controls need, opened on first use (a Promise until they are). */
  private calibrationHelpers(reply: ResolvedReply): CalibrationHelpers | Promise<CalibrationHelpers> {
    const h = this.helpers;
    const pending: Promise<unknown>[] = [];
    const cal = this.stats.calibration;
    if (reply.copies > 0 && h.copier === undefined) pending.push(h.copierOpening ??= openCopier().then((c) => { h.copier = c; cal.copiesPath = c.path; }));
    if (reply.connects > 0 && h.churner === undefined) pending.push(h.churnerOpening ??= openChurner().then((c) => { h.churner = c; cal.connectsPath = c.path; }));
    if (reply.switches > 0 && h.switcher === undefined) {
      pending.push(h.switcherOpening ??= startSwitcher().then((c) => { h.switcher = c; cal.switchesPath = c.path; }));
    }
    return pending.length === 0 ? h : Promise.all(pending).then(() => h);
  }

  /** The bytes `reply` writes for this answer, as one buffer (what `copies` passes through the kernel). */
  private replyBytes(status: number, body: Buffer, connection: ConnectionHeader, headOnly: boolean): Buffer {
    const bodyless = status === 204 || status === 304;
    const head = this.head(status, bodyless ? -1 : body.length, connection);
    return headOnly || bodyless || body.length === 0 ? head : Buffer.concat([head, body]);
  }

  private reject(socket: net.Socket, error: { code: string; reason: string; status: number }): void {
    this.stats.rejected += 1;
    this.stats.rejectedByCode[error.code] = (this.stats.rejectedByCode[error.code] ?? 0) + 1;
    this.reply(socket, error.status, Buffer.from(`${error.code}: ${error.reason}\n`, 'latin1'), 'close', false);
  }

  private reply(socket: net.Socket, status: number, body: Buffer, connection: ConnectionHeader, headOnly: boolean): void {
    if (socket.destroyed || socket.writableEnded) return;
    // RFC 9110 §15.3.5, §15.4.5: 204 and 304 carry no body (and 204 no Content-Length).
    const bodyless = status === 204 || status === 304;
    const head = this.head(status, bodyless ? -1 : body.length, connection);
    const send = headOnly || bodyless ? Buffer.alloc(0) : body;
    this.stats.bytesSent += head.length + send.length;
    // One write, one syscall, for small replies; large ones are not worth copying.
    if (send.length <= 16 * 1024) socket.write(send.length === 0 ? head : Buffer.concat([head, send], head.length + send.length));
    else {
      socket.cork();
      socket.write(head);
      socket.write(send);
      socket.uncork();
    }
  }

  /** Status line and headers; `contentLength` -1 leaves Content-Length out. */
  private head(status: number, contentLength: number, connection: ConnectionHeader): Buffer {
    const key = `${status}:${contentLength}:${connection}`;
    let head = this.headCache.get(key);
    if (head === undefined) {
      head = Buffer.from(
        `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: meshbench\r\n${contentLength >= 0 ? `Content-Length: ${contentLength}\r\n` : ''}`
        + `${connection === 'close' ? 'Connection: close\r\n' : connection === 'keep-alive' ? 'Connection: keep-alive\r\n' : ''}`
        + 'Content-Type: application/octet-stream\r\n\r\n', 'latin1');
      if (this.headCache.size < 4096) this.headCache.set(key, head);
    }
    return head;
  }

  private payload(size: Bytes): Buffer {
    let p = this.payloadCache.get(size);
    if (p === undefined) {
      p = Buffer.alloc(size, 0x78); // 'x', printable so curl output stays readable
      if (this.payloadCache.size < 64) this.payloadCache.set(size, p);
    }
    return p;
  }
}

function concatBody(ex: Exchange): Buffer {
  if (ex.body.length === 1) return ex.body[0] as Buffer;
  return ex.body.length === 0 ? Buffer.alloc(0) : Buffer.concat(ex.body, ex.bodyBytes);
}
