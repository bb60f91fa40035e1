import type { Bytes } from './units';

/*
 * HTTP/1.x request framing for the echo server, done by llhttp: the parser Node's own `http` module
 * uses, reached through `_http_common` (Node's http server and client load it from there too).
 *
 * Why not the hand-written parser the server had: on this machine (Node 20, wrk's GET) it framed a
 * request in ~1.25 µs against llhttp's ~2.2 µs, but the whole server's CPU per request under wrk was the
 * same within noise (22.6 µs median for both, see echoServer.ts), while the hand-written one crashed on
 * a bad escape, answered chunked bodies with 501 and read CL+TE requests one way where a proxy may read
 * them the other (request smuggling). llhttp implements RFC 9112 framing (chunked with extensions and
 * trailers, obs-fold, Content-Length lists, CL+TE rejection) and is fuzzed upstream; we keep only the
 * policy (limits, what to reply) in TypeScript.
 */

/** The native parser class; Node 20's binding (src/node_http_parser.cc). */
interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenientFlags?: number): void;
  execute(data: Buffer): number | NativeParseError;
  finish(): number | NativeParseError | undefined;
  close(): void;
  [key: number]: unknown;
}
interface NativeParseError extends Error {
  code?: string;
  reason?: string;
  bytesParsed?: number;
}
interface NativeParserClass {
  new (): NativeParser;
  readonly REQUEST: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
  readonly kOnTimeout: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpCommon = require('_http_common') as { HTTPParser: NativeParserClass; methods: readonly string[] };
const { HTTPParser } = httpCommon;
const methodNames = httpCommon.methods;

/** The request line and the headers the echo server acts on; header names lower-cased. */
export interface RequestHead {
  /** Method name as sent (llhttp accepts only registered methods). */
  readonly method: string;
  /** Request target, raw (percent-escapes not decoded). */
  readonly target: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Flat list as llhttp gives it: name, value, name, value… (names as sent). */
  readonly headers: readonly string[];
  /** RFC 9112 §9.3: persistent unless `close` (1.1), or `keep-alive` was asked for (1.0). */
  readonly keepAlive: boolean;
  /** `Connection: Upgrade` + `Upgrade`, or CONNECT: the bytes after the head are not HTTP any more. */
  readonly upgrade: boolean;
  /** Value of `Expect`, lower-cased, or undefined. */
  readonly expect: string | undefined;
}

/** Why a request could not be framed; `status` is the reply it deserves (RFC 9110 §15.5). */
export interface RequestParseError {
  /** llhttp's error code (`HPE_INVALID_CHUNK_SIZE`…) or ours (`BODY_TOO_LARGE`, `EOF_IN_REQUEST`). */
  readonly code: string;
  readonly reason: string;
  /** 400 for malformed framing, 431 for a head over the limit, 413 for a body over the limit. */
  readonly status: 400 | 413 | 431;
}

/** What the parser reports, in byte order; a connection's requests arrive in the order sent. */
export interface RequestEvents {
  onHead(head: RequestHead): void;
  onBody(chunk: Buffer): void;
  /** The message ended (after the last chunk and its trailers, or Content-Length bytes). */
  onComplete(): void;
  /** Framing failed: nothing after this is parsed; the connection must be closed after replying. */
  onError(error: RequestParseError): void;
}

export interface RequestParserLimits {
  /** Request line + headers (and again trailers); Node's default `--max-http-header-size` is 16 KiB. */
  readonly maxHeaderBytes: Bytes;
  /** Body bytes per request after de-chunking. */
  readonly maxBodyBytes: Bytes;
}

export const defaultRequestLimits: RequestParserLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024 * 1024 };

/**
 * One connection's request parser: push bytes as they arrive, at any boundaries; events fire
 * synchronously from `push`. After `onError`, or after an upgrade request's head, later bytes are
 * ignored (`stopped` is true). Never throws on any input.
 */
export class RequestParser {
  private readonly native: NativeParser;
  private partialHeaders: string[] = [];
  private partialUrl = '';
  private bodyBytes = 0;
  private inMessage = false;
  private done = false;
  private closed = false;

  constructor(private readonly events: RequestEvents, private readonly limits: RequestParserLimits = defaultRequestLimits) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, limits.maxHeaderBytes, 0);
    p[HTTPParser.kOnMessageBegin] = (): void => {
      this.inMessage = true;
      this.bodyBytes = 0;
    };
    // Called only when a head (or trailer section) spans several reads: the fields seen so far.
    p[HTTPParser.kOnHeaders] = (headers: string[], url: string): void => {
      if (this.bodyBytes > 0 || this.inBodyPhase) return; // trailers: the echo server ignores them
      for (const h of headers) this.partialHeaders.push(h);
      this.partialUrl += url;
    };
    p[HTTPParser.kOnHeadersComplete] = (versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number,
      url: string | undefined, _status: unknown, _statusMessage: unknown, upgrade: boolean, keepAlive: boolean): number => {
      const allHeaders = headers === undefined ? this.partialHeaders : this.partialHeaders.length > 0 ? this.partialHeaders.concat(headers) : headers;
      const target = url === undefined ? this.partialUrl : this.partialUrl + url;
      this.partialHeaders = [];
      this.partialUrl = '';
      this.inBodyPhase = true;
      if (upgrade) this.upgradeSeen = true;
      let expect: string | undefined;
      for (let i = 0; i + 1 < allHeaders.length; i += 2) {
        const name = allHeaders[i] as string;
        if (name.length === 6 && name.toLowerCase() === 'expect') expect = (allHeaders[i + 1] as string).trim().toLowerCase();
      }
      this.events.onHead({
        method: methodNames[method] ?? 'UNKNOWN', target, versionMajor, versionMinor, headers: allHeaders, keepAlive, upgrade, expect,
      });
      // 2 tells llhttp "upgrade, no body": the message ends with its head, whatever the read boundaries
      // (left to itself llhttp reads a body after some upgrade heads and not after others).
      return upgrade ? 2 : 0;
    };
    p[HTTPParser.kOnBody] = (chunk: Buffer): void => {
      if (this.done) return;
      this.bodyBytes += chunk.length;
      if (this.bodyBytes > this.limits.maxBodyBytes) {
        this.fail({ code: 'BODY_TOO_LARGE', reason: `request body over ${this.limits.maxBodyBytes} bytes`, status: 413 });
        return;
      }
      this.events.onBody(chunk);
    };
    p[HTTPParser.kOnMessageComplete] = (): void => {
      this.inMessage = false;
      this.inBodyPhase = false;
      if (!this.done) this.events.onComplete();
    };
    p[HTTPParser.kOnExecute] = (): void => {};
    p[HTTPParser.kOnTimeout] = (): void => {};
    this.native = p;
  }

  private inBodyPhase = false;
  private upgradeSeen = false;

  /** True once nothing more will be parsed on this connection (error, or an upgrade request). */
  get stopped(): boolean {
    return this.done;
  }

  /** True while a request's head has started arriving but is not complete. */
  get inHead(): boolean {
    return this.inMessage && !this.inBodyPhase;
  }

  /** True while a request has started but not ended: a close now cuts it short. */
  get midRequest(): boolean {
    return this.inMessage;
  }

  /** Feeds bytes; returns how many were consumed as HTTP (less than the length only after an upgrade head or an error). */
  push(data: Buffer): number {
    if (this.done) return 0;
    const r = this.native.execute(data);
    if (typeof r !== 'number') {
      this.failNative(r);
      return r.bytesParsed ?? 0;
    }
    if (this.upgradeSeen) this.done = true; // the bytes after an upgrade request are not HTTP
    return r;
  }

  /** The peer closed its side: a request cut off mid-way is an error (llhttp's own EOF rule). */
  end(): void {
    if (this.done) return;
    const r = this.native.finish();
    if (r !== undefined && typeof r !== 'number') this.failNative(r);
    else if (this.inMessage) this.fail({ code: 'EOF_IN_REQUEST', reason: 'connection closed mid-request', status: 400 });
  }

  /** Frees the native parser; call when the connection closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    this.native.close();
  }

  private failNative(e: NativeParseError): void {
    const code = e.code ?? 'HPE_UNKNOWN';
    this.fail({ code, reason: e.reason ?? e.message, status: code === 'HPE_HEADER_OVERFLOW' ? 431 : 400 });
  }

  private fail(error: RequestParseError): void {
    if (this.done) return;
    this.done = true;
    this.events.onError(error);
  }
}
