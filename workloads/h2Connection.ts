import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { errorKind, type ClientConnection, type ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds } from './units';

/** HTTP/2 error codes by number (RFC 9113 §7), as RST_STREAM and GOAWAY carry them. */
const h2ErrorNames = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED', 'FRAME_SIZE_ERROR',
  'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

/** `7` → `REFUSED_STREAM` (RFC 9113 §7); unknown codes keep their number in hex, as nghttp2 prints them. */
export function h2ErrorName(code: number): string {
  return h2ErrorNames[code] ?? `0x${code.toString(16)}`;
}

/** Error kind of a stream the peer reset (`rst-stream:REFUSED_STREAM`). */
export function rstStreamKind(code: number): string {
  return `rst-stream:${h2ErrorName(code)}`;
}

/** Error kind of a request lost to the peer's GOAWAY (`goaway:NO_ERROR` for a graceful shutdown). */
export function goawayKind(code: number): string {
  return `goaway:${h2ErrorName(code)}`;
}

/** Error kind when the peer answered the HTTP/2 connection preface with something that is not HTTP/2 (an HTTP/1.1-only server). */
export const notHttp2Kind = 'not-http2';

/**
 * The header list size of a header block (RFC 7541 §4.1: name + value octets + 32 per field): what
 * SETTINGS_MAX_HEADER_LIST_SIZE counts. node:http2 does not expose the HPACK-compressed size of a frame,
 * so HTTP/2 head sizes are this, not wire bytes.
 */
export function headerListBytes(headers: http2.IncomingHttpHeaders | http2.OutgoingHttpHeaders): Bytes {
  let n = 0;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) n += name.length + String(item).length + 32;
    else n += name.length + String(v).length + 32;
  }
  return n;
}

/** What one request of a stream slot sends: its request headers and body, built once per run. */
export interface H2Request {
  readonly headers: http2.OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** Local flow-control window, per stream and connection: large, so responses never wait for WINDOW_UPDATE (h2load's -w/-W default 2^30 − 1 for the connection). */
const windowBytes = 2 ** 30 - 1;
const streamWindowBytes = 2 ** 24;

/**
 * One HTTP/2 connection shared by `streams` stream slots (fortio's -s: the gRPC runner dials once per
 * `streams` threads; h2load's -m): opened lazily by the first slot that needs it, reopened after it is
 * lost. Its failures reach every slot with a request in flight.
 */
export class H2Session {
  private session: http2.ClientHttp2Session | undefined;
  private opening: Promise<void> | undefined;
  /** The peer's SETTINGS arrived: it speaks HTTP/2. */
  private sawSettings = false;
  private goawayCode: number | undefined;
  /** Per connection, the last stream its GOAWAY said the peer processed (RFC 9113 §6.8). */
  private readonly lastStreamIds = new WeakMap<http2.ClientHttp2Session, number>();
  private readonly slots: H2StreamConnection[] = [];

  constructor(private readonly target: LoadTarget, private readonly events: ConnectionEvents) {}

  /** Adds a stream slot; the first one added is charged with the socket (onSocketOpened). */
  attach(slot: H2StreamConnection): void {
    this.slots.push(slot);
  }

  /** The live session, opened if there is none or the current one is closing (after GOAWAY it takes no new streams). */
  get(): http2.ClientHttp2Session {
    const s = this.session;
    return s === undefined || s.closed || s.destroyed ? this.open() : s;
  }

  preconnect(): Promise<void> {
    if (this.session === undefined) this.open();
    return this.opening ?? Promise.resolve();
  }

  /**
   * Whether a stream was refused by its connection's GOAWAY: opened after the last stream the peer says
   * it processed, or never opened at all, so it can be retried on a new connection (RFC 9113 §6.8: such
   * requests "can be safely retried"; browsers, grpc and h2load's reconnect do).
   */
  refusedByGoaway(session: http2.ClientHttp2Session, streamId: number | undefined): boolean {
    const last = this.lastStreamIds.get(session);
    return last !== undefined && (streamId === undefined || streamId > last);
  }

  /** The kind a request lost with the session is counted under: GOAWAY's code, a non-HTTP/2 peer, or the socket's error. */
  lostKind(fallback: string): string {
    if (this.goawayCode !== undefined) return goawayKind(this.goawayCode);
    return fallback;
  }

  close(): void {
    const s = this.session;
    this.session = undefined;
    this.opening = undefined;
    if (s !== undefined && !s.destroyed) s.destroy();
  }

  private open(): http2.ClientHttp2Session {
    const t = this.target;
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    const authority = `${t.tls ? 'https' : 'http'}://${host}:${t.port}`;
    // Our own socket, for TCP_NODELAY (node:http2 forbids touching its socket once it has it). No
    // certificate check, as h2load: a benchmark target's certificate is self-signed more often than not.
    const session = http2.connect(authority, {
      settings: { initialWindowSize: streamWindowBytes, enablePush: false },
      createConnection: () => {
        if (!t.tls) return net.connect({ host: t.host, port: t.port, noDelay: true });
        const socket = tls.connect({ host: t.host, port: t.port, ALPNProtocols: ['h2'], rejectUnauthorized: false, ...(net.isIP(t.host) === 0 ? { servername: t.host } : {}) });
        socket.setNoDelay(true);
        return socket;
      },
    });
    this.session = session;
    this.sawSettings = false;
    this.goawayCode = undefined;
    const first = this.slots[0];
    if (first !== undefined) this.events.onSocketOpened(first);
    this.opening = new Promise<void>((resolve) => {
      session.once('connect', () => resolve());
      session.once('close', () => resolve());
    });
    session.once('connect', () => session.setLocalWindowSize(windowBytes));
    session.once('remoteSettings', () => { this.sawSettings = true; });
    session.on('goaway', (code: number, lastStreamId: number) => {
      if (this.session === session) this.goawayCode = code;
      this.lastStreamIds.set(session, lastStreamId);
    });
    let lostKind: string | undefined;
    session.on('error', (err) => {
      lostKind ??= this.sawSettings ? errorKind(err) : this.notHttp2Kind(err);
    });
    session.on('close', () => {
      this.lose(session, lostKind ?? (this.sawSettings ? 'closed-early' : notHttp2KindIfConnected(session)));
    });
    return session;
  }

  /** Before the peer's SETTINGS, a protocol error means the peer is not an HTTP/2 server (HTTP/1.1 answers `HTTP/1.1 400`). */
  private notHttp2Kind(err: unknown): string {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ERR_HTTP2_ERROR' || code === 'ERR_HTTP2_SESSION_ERROR' || code === 'ERR_HTTP2_GOAWAY_SESSION'
      || code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' ? notHttp2Kind : errorKind(err);
  }

  /** The session closed: every request still in flight on it fails with `kind` (its GOAWAY's code first). */
  private lose(session: http2.ClientHttp2Session, kind: string): void {
    const k = this.goawayCode !== undefined && this.session === session ? goawayKind(this.goawayCode) : kind;
    if (this.session === session) {
      this.session = undefined;
      this.opening = undefined;
    }
    for (const slot of this.slots) slot.sessionLost(session, k);
  }
}

/** A session that closed before any SETTINGS: if it had connected, the peer hung up on the preface. */
function notHttp2KindIfConnected(session: http2.ClientHttp2Session): string {
  return session.connecting ? 'closed-early' : notHttp2Kind;
}

/**
 * What every HTTP/2 stream slot (over node:http2 here, over the hand-written client in h2FastConnection.ts)
 * keeps of its request in flight, the runner's ClientConnection fields plus the once-only GOAWAY retry.
 */
export abstract class H2StreamSlot implements ClientConnection {
  abstract readonly id: number;
  busy = false;
  intendedUs: Microseconds = 0;
  sentUs: Microseconds = 0;
  /** The request in flight was already retried once after a GOAWAY refused it (RFC 9113 §6.8). */
  protected retried = false;
  abstract readonly requestWritten: boolean;

  abstract send(intendedUs: Microseconds, nowUs: Microseconds): void;
  abstract preconnect(): Promise<void>;
  abstract abort(): void;
  abstract close(): void;

  /** A new request goes out on this slot: its intended and actual send times, no retry yet. */
  protected begin(intendedUs: Microseconds, nowUs: Microseconds): void {
    this.busy = true;
    this.intendedUs = intendedUs;
    this.sentUs = nowUs;
    this.retried = false;
  }
}

/**
 * One stream slot of an HTTP/2 connection: the runner's ClientConnection, with one request in flight, so
 * `--streams s` over `-c c` connections is c × s slots and the runner's schedule (request k on slot
 * k mod c·s), coordinated-omission correction and end-of-run accounting apply unchanged. A timeout or
 * the end-of-run abort resets only this slot's stream (RST_STREAM CANCEL), not the shared connection.
 *
 * node:http2 (nghttp2 in C++) is the framing. A response completes when its stream closes cleanly after
 * END_STREAM; a reset is `rst-stream:<code>`, a request lost to GOAWAY `goaway:<code>`.
 */
export class H2StreamConnection extends H2StreamSlot {
  protected stream: http2.ClientHttp2Stream | undefined;
  /** The connection the stream in flight was opened on (a stream's own `session` is cleared when it is destroyed). */
  private streamSession: http2.ClientHttp2Session | undefined;
  protected status = 0;
  protected bodyBytes: Bytes = 0;
  protected headBytes: Bytes = 0;
  protected ended = false;
  /** See ClientConnection.requestWritten: its stream was given an id, which node:http2 does only on a connected session. */
  requestWritten = false;

  constructor(
    readonly id: number,
    protected readonly session: H2Session,
    protected readonly request: H2Request,
    protected readonly events: ConnectionEvents,
  ) {
    super();
    session.attach(this);
  }

  send(intendedUs: Microseconds, nowUs: Microseconds): void {
    this.begin(intendedUs, nowUs);
    this.requestWritten = false;
    this.start();
  }

  /** Opens the stream of the request in flight (again, after a GOAWAY refused it). */
  private start(): void {
    this.status = 0;
    this.bodyBytes = 0;
    this.headBytes = 0;
    this.ended = false;
    this.resetResponse();
    let stream: http2.ClientHttp2Stream;
    try {
      const body = this.request.body;
      const session = this.session.get();
      this.streamSession = session;
      stream = session.request(this.request.headers, { endStream: body.length === 0 });
      if (body.length > 0) stream.end(body);
    } catch (err) {
      // A session closing under us (GOAWAY received, destroyed) refuses new streams synchronously.
      if (this.retryAfterGoaway(undefined)) return;
      this.fail(this.session.lostKind(errorKind(err)));
      return;
    }
    this.stream = stream;
    // A stream gets its id when nghttp2 takes its HEADERS, at once on a connected session, else on 'ready'.
    if (!stream.pending) this.requestWritten = true;
    else stream.once('ready', () => { if (this.stream === stream) this.requestWritten = true; });
    stream.on('response', (headers) => {
      if (this.stream !== stream) return;
      this.status = Number(headers[':status']);
      this.headBytes += headerListBytes(headers);
      this.onHeaders(headers);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.stream !== stream) return;
      this.bodyBytes += chunk.length;
      if (!this.onData(chunk)) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        this.fail('bad-response');
      }
    });
    stream.on('trailers', (headers) => {
      if (this.stream !== stream) return;
      this.headBytes += headerListBytes(headers);
      this.onTrailers(headers);
    });
    stream.on('end', () => { if (this.stream === stream) this.ended = true; });
    stream.on('error', () => { /* the reason shows as rstCode on 'close' */ });
    stream.on('close', () => {
      if (this.stream !== stream) return;
      // Closed with its connection: the session's 'close' names the cause (GOAWAY, socket error, not HTTP/2).
      if ((this.streamSession as http2.ClientHttp2Session).destroyed) {
        const code0 = stream.rstCode ?? 0;
        if (!(code0 === http2.constants.NGHTTP2_NO_ERROR && this.ended && this.status !== 0)) return;
      }
      this.stream = undefined;
      if (!this.busy) return;
      const code = stream.rstCode ?? 0;
      const whole = this.ended && this.status !== 0;
      if (!whole && this.retryAfterGoaway(stream.id)) return;
      if (code !== http2.constants.NGHTTP2_NO_ERROR && !whole) this.fail(this.session.lostKind(rstStreamKind(code)));
      else if (!whole) this.fail(this.session.lostKind('closed-early'));
      else this.finish();
    });
  }

  preconnect(): Promise<void> {
    return this.session.preconnect();
  }

  abort(): void {
    this.busy = false;
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined && !s.closed && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
  }

  close(): void {
    this.abort();
    this.session.close();
  }

  /** A connection closed: a request in flight on it from this slot is retried if GOAWAY refused it, else fails with `kind`. */
  sessionLost(session: http2.ClientHttp2Session, kind: string): void {
    if (this.stream === undefined || this.streamSession !== session) return;
    const id = this.stream.id;
    this.stream = undefined;
    if (!this.busy) return;
    if (!this.retryAfterGoaway(id)) this.fail(kind);
  }

  /** Sends the request in flight again on a new connection when GOAWAY refused it (once per request). */
  private retryAfterGoaway(streamId: number | undefined): boolean {
    const session = this.streamSession;
    if (this.retried || session === undefined || !this.session.refusedByGoaway(session, streamId)) return false;
    this.retried = true;
    this.start();
    return true;
  }

  /** A new request starts: forget the last response's protocol state. */
  protected resetResponse(): void {
    // HTTP/2 keeps none beyond the counters send() resets
  }

  /** Response headers arrived (HEADERS, END_HEADERS). */
  protected onHeaders(_headers: http2.IncomingHttpHeaders): void {
    // HTTP/2: the status is all
  }

  /** A DATA chunk; false when it breaks the protocol's framing (the stream is then cancelled). */
  protected onData(_chunk: Buffer): boolean {
    return true;
  }

  /** Trailers arrived. */
  protected onTrailers(_headers: http2.IncomingHttpHeaders): void {
    // HTTP/2: nothing to read in them
  }

  /** The stream ended cleanly: report the response (gRPC overrides it to read grpc-status). */
  protected finish(): void {
    this.complete(this.status, this.bodyBytes + this.headBytes, this.headBytes);
  }

  /** A whole response; `answerKind` names an answer that is no success although its status is (gRPC's GrpcAnswerKind). */
  protected complete(status: number, bytes: Bytes, headBytes: Bytes, answerKind?: string): void {
    this.busy = false;
    this.events.onComplete(this, status, bytes, headBytes, answerKind);
  }

  protected fail(kind: string): void {
    const wasBusy = this.busy;
    this.busy = false;
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined && !s.closed && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
    if (wasBusy) this.events.onError(this, kind);
  }
}

/**
 * Adds `-H` headers to an HTTP/2 request (gRPC metadata too): names lower-cased, as HTTP/2 requires (RFC 9113
 * §8.2.1), and `Host` as `:authority` (RFC 9113 §8.3.1: HTTP/2 carries the host there), replacing the URL's.
 */
export function addUserHeaders(h: http2.OutgoingHttpHeaders, headers: ReadonlyArray<readonly [string, string]>): void {
  for (const [name, value] of headers) {
    const n = name.toLowerCase();
    if (n === 'host') h[':authority'] = value;
    else h[n] = value;
  }
}

/** The request headers of an HTTP/2 load: GET (or POST with a body) of the URL's path, user headers after. */
export function buildH2Request(target: LoadTarget, payload: Buffer, headers: ReadonlyArray<readonly [string, string]>): H2Request {
  const h: http2.OutgoingHttpHeaders = {
    ':method': payload.length > 0 ? 'POST' : 'GET',
    ':path': target.path,
    ':scheme': target.tls ? 'https' : 'http',
    ':authority': target.authority,
    'user-agent': 'meshbench',
  };
  if (target.authorization !== undefined) h.authorization = target.authorization;
  addUserHeaders(h, headers);
  if (payload.length > 0) {
    h['content-length'] = String(payload.length);
    h['content-type'] ??= 'application/octet-stream';
  }
  return { headers: h, body: payload };
}
