import http2 from 'node:http2';
import type net from 'node:net';
import { monotonicClock, type Clock, type TimerApi } from './clock';
import { DeadlineQueue } from './deadlineQueue';
import { noControls, parseControls, resolveReply, type EchoControls } from './echoControls';
import type { EchoServerStats } from './echoServer';
import { emptyEchoStats, ReplyWork } from './echoWork';
import { headerListBytes } from './h2Connection';
import { PreciseTimers } from './preciseTimers';
import { listenOn } from './serverListen';

/** The echo controls a request may carry as headers of these names (`delay: 5ms`, `status: 503:10`), besides its query string. */
export const controlHeaderNames = ['delay', 'status', 'size', 'close', 'burn', 'copies', 'connects', 'switches'] as const;

/**
 * The controls of one HTTP/2 request or gRPC call: the server's defaults, then the path's query string
 * (fortio's form, as HTTP/1.1), then headers or metadata named for a control, each overriding the last.
 * Throws ControlSyntaxError on a value it cannot read.
 */
export function controlsFromHeaders(defaults: EchoControls, query: string, get: (name: string) => string | undefined): EchoControls {
  let controls = query === '' ? defaults : parseControls(query, defaults);
  const pairs: string[] = [];
  for (const name of controlHeaderNames) {
    const v = get(name);
    if (v !== undefined) pairs.push(`${name}=${encodeURIComponent(v)}`);
  }
  if (pairs.length > 0) controls = parseControls(pairs.join('&'), controls);
  return controls;
}

/** TLS for the HTTP/2 echo: PEM certificate chain and key (h2 is then negotiated with ALPN). */
export interface EchoTls {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface H2EchoServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly defaults?: EchoControls;
  /** Without it, h2c with prior knowledge (RFC 9113 §3.3); with it, h2 over TLS (ALPN `h2` only). */
  readonly tls?: EchoTls;
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly timers?: TimerApi;
}

/** HTTP/2 counters on top of the echo's: how many streams each connection carried at once. */
export interface H2EchoStats extends EchoServerStats {
  /** Most streams open at the same time on one connection, over the server's life (RFC 9113 §5.1.2's concurrency). */
  maxConcurrentStreams: number;
  /** Streams opened, all connections. */
  streams: number;
}

/** The HTTP/2 requests in flight on one connection, for maxConcurrentStreams. */
interface SessionState {
  open: number;
}

/**
 * HTTP/2 echo server (node:http2, nghttp2): h2c with prior knowledge, or h2 over TLS. Every stream is one
 * request, answered with fortio's controls as the HTTP/1.1 echo does (status, size or the request body
 * echoed, delay, calibration work); `close` ends the connection gracefully after the reply (GOAWAY
 * NO_ERROR, RFC 9113 §6.8: HTTP/2's counterpart of `Connection: close`). A control that cannot be read is a
 * 400 naming it, as with HTTP/1.1.
 */
export class H2EchoServer {
  readonly stats: H2EchoStats = { ...emptyEchoStats(), maxConcurrentStreams: 0, streams: 0 };
  private readonly server: http2.Http2Server | http2.Http2SecureServer;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly defaults: EchoControls;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly timers: TimerApi;
  private readonly deadlines: DeadlineQueue;
  private readonly work: ReplyWork;
  private readonly payloadCache = new Map<number, Buffer>();

  constructor(private readonly options: H2EchoServerOptions) {
    this.defaults = options.defaults ?? noControls;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? monotonicClock;
    this.timers = options.timers ?? new PreciseTimers();
    this.deadlines = new DeadlineQueue(this.clock, this.timers, this.timers instanceof PreciseTimers ? 200 : 1500);
    this.work = new ReplyWork(this.stats, this.clock, this.deadlines, this.timers);
    // Streams up to what h2load and Envoy open by default (100 is nghttp2's and Go's default too).
    const settings = { maxConcurrentStreams: 1000, initialWindowSize: 2 ** 24 };
    this.server = options.tls === undefined
      ? http2.createServer({ settings })
      : http2.createSecureServer({ settings, cert: options.tls.cert, key: options.tls.key, ALPNProtocols: ['h2'], allowHTTP1: false });
    this.server.on('connection', (socket: net.Socket) => socket.setNoDelay(true));
    this.server.on('session', (session: http2.ServerHttp2Session) => this.accept(session));
    this.server.on('stream', (stream, headers) => this.serve(stream, headers));
    // A client that is not HTTP/2 (an HTTP/1.1 request to an h2c port) gets nghttp2's GOAWAY; nothing to count here.
    this.server.on('sessionError', () => { /* the session closes itself */ });
  }

  listen(): Promise<net.AddressInfo> {
    return listenOn(this.server, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    this.deadlines.clear();
    if (this.timers instanceof PreciseTimers) this.timers.close();
    for (const s of this.sessions) s.destroy();
    this.work.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(session: http2.ServerHttp2Session): void {
    this.stats.connectionsAccepted += 1;
    this.sessions.add(session);
    (session as unknown as { meshbench: SessionState }).meshbench = { open: 0 };
    session.on('close', () => this.sessions.delete(session));
    session.on('error', () => session.destroy());
  }

  private serve(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const session = stream.session as http2.ServerHttp2Session;
    const state = (session as unknown as { meshbench?: SessionState }).meshbench ?? { open: 0 };
    state.open += 1;
    this.stats.streams += 1;
    if (state.open > this.stats.maxConcurrentStreams) this.stats.maxConcurrentStreams = state.open;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      state.open -= 1;
    };
    stream.on('close', finish);
    stream.on('error', () => { /* a reset by the client: nothing to answer */ });
    this.stats.bytesReceived += headerListBytes(headers);
    const body: Buffer[] = [];
    let bodyBytes = 0;
    stream.on('data', (chunk: Buffer) => { body.push(chunk); bodyBytes += chunk.length; });
    stream.on('end', () => {
      this.stats.bytesReceived += bodyBytes;
      const path = String(headers[':path'] ?? '/');
      const q = path.indexOf('?');
      let controls: EchoControls;
      try {
        controls = controlsFromHeaders(this.defaults, q < 0 ? '' : path.slice(q + 1), (n) => {
          const v = headers[n];
          return v === undefined ? undefined : Array.isArray(v) ? v[0] : String(v);
        });
      } catch (err) {
        this.reject(stream, 'BAD_CONTROL', err instanceof Error ? err.message : String(err));
        return;
      }
      this.stats.requests += 1;
      const reply = resolveReply(controls, this.random);
      const payload = reply.sizeBytes === undefined ? (body.length === 1 ? body[0] as Buffer : Buffer.concat(body, bodyBytes)) : this.payload(reply.sizeBytes);
      // RFC 9110 §15.3.5, §15.4.5: 204 and 304 carry no body (204 no Content-Length); HEAD gets GET's length, no body.
      const noContent = reply.status === 204 || reply.status === 304;
      const bodyless = noContent || headers[':method'] === 'HEAD';
      const responseHeaders: http2.OutgoingHttpHeaders = {
        ':status': reply.status, server: 'meshbench', 'content-type': 'application/octet-stream',
        ...(reply.status === 204 ? {} : { 'content-length': noContent ? 0 : payload.length }),
      };
      const alive = (): boolean => !stream.destroyed && !stream.closed;
      this.work.perform(reply, () => payload, alive, () => {
        this.stats.bytesSent += headerListBytes(responseHeaders) + (bodyless ? 0 : payload.length);
        if (bodyless || payload.length === 0) stream.respond(responseHeaders, { endStream: true });
        else {
          stream.respond(responseHeaders);
          stream.end(payload);
        }
        if (reply.close && !session.closed) session.close();
      }, () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    });
  }

  private reject(stream: http2.ServerHttp2Stream, code: string, reason: string): void {
    this.stats.rejected += 1;
    this.stats.rejectedByCode[code] = (this.stats.rejectedByCode[code] ?? 0) + 1;
    if (stream.destroyed || stream.headersSent) return;
    const text = Buffer.from(`${code}: ${reason}\n`, 'utf8');
    stream.respond({ ':status': 400, 'content-type': 'text/plain', 'content-length': text.length });
    stream.end(text);
  }

  private payload(size: number): Buffer {
    let p = this.payloadCache.get(size);
    if (p === undefined) {
      p = Buffer.alloc(size, 0x78);
      if (this.payloadCache.size < 64) this.payloadCache.set(size, p);
    }
    return p;
  }
}
