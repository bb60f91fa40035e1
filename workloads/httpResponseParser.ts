import type { Bytes } from './units';

/*
 * HTTP/1.1 response framing (RFC 9112) by llhttp, the parser Node's own http module uses, reached through
 * Node's binding (`_http_common`.HTTPParser). Only the hot path is hand-written: a response whose head
 * is byte-identical to the previous Content-Length response on the connection (the common case in a load
 * test) is recognised with one memcmp and its body counted, without entering llhttp; the parser is then
 * still at a message boundary, so skipping the message leaves its state as it was.
 * Measured under the machine lock (2 cores, Node 20, a 6-header 13-byte-body nginx-like response, median
 * of 3 runs of 300,000): llhttp alone through the binding ~2.5 µs per response; the cached path ~0.27 µs
 * (~9–20× cheaper); a changing head (llhttp plus this wrapper) ~4.1 µs. The regex head parser meshbench
 * had before cost ~0.9 µs on changing heads, but it got 1xx, Connection token lists, close-delimited
 * bodies and malformed framing wrong (issue 11), so changing heads pay llhttp's price for being right.
 * test/unit/httpResponseFuzz.test.ts checks both paths agree with plain llhttp.
 */

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenientFlags?: number): void;
  execute(data: Buffer): number | Error;
  finish(): undefined | Error;
  [key: number]: unknown;
}

interface LlhttpBinding {
  new (): LlhttpParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- Node's internal-but-stable binding has no typings
const { HTTPParser } = require('_http_common') as { HTTPParser: LlhttpBinding };

/** Node's http client accepts 16 KiB of head by default; a load client reads what test servers send, so more. */
export const maxResponseHeadBytes: Bytes = 64 * 1024;

/** What `feed` and `end` return. */
export const needMore = 0;
export const complete = 1;
export const failed = 2;
export type ParseStep = typeof needMore | typeof complete | typeof failed;

/** How the body of the final response was delimited (RFC 9112 §6.3). */
export type BodyFraming = 'content-length' | 'chunked' | 'close' | 'none';

const crlfcrlf = Buffer.from('\r\n\r\n');

/** A new llhttp parser for responses, strict (no lenient flags), as Node's http client configures it. */
export function newLlhttpResponseParser(): LlhttpParser {
  const p = new HTTPParser();
  p.initialize(HTTPParser.RESPONSE, {}, maxResponseHeadBytes, HTTPParser.kLenientNone);
  return p;
}

/** The llhttp callback slots, for tests that drive a plain parser as the reference. */
export const llhttpCallbacks = {
  onMessageBegin: HTTPParser.kOnMessageBegin,
  onHeadersComplete: HTTPParser.kOnHeadersComplete,
  onBody: HTTPParser.kOnBody,
  onMessageComplete: HTTPParser.kOnMessageComplete,
} as const;

/** Framing headers of a head, found in one pass over llhttp's [name, value, …] list without lower-casing every name. */
function framingHeaders(headers: readonly string[]): { contentLength: boolean; transferEncoding: string | undefined } {
  let contentLength = false;
  let transferEncoding: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length === 14 && name.toLowerCase() === 'content-length') contentLength = true;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? headers[i + 1] : `${transferEncoding},${headers[i + 1] as string}`;
    }
  }
  return { contentLength, transferEncoding };
}

/**
 * Reads one response per request off a connection's byte stream, fed at whatever boundaries reads give.
 * 1xx interim responses are skipped (RFC 9110 §15.2), 101 is the error `upgrade-not-supported`, malformed
 * framing fails at the byte llhttp rejects (`bad-response`), a body delimited by close completes on `end`.
 * After `complete`: `status`, `keepAlive` (llhttp's reading of Connection tokens, version and framing),
 * `framing`, `bodyBytes`, `headerBytes` and `bytes` describe the final response. After `failed`: `errorKind`.
 */
export class HttpResponseParser {
  status = 0;
  keepAlive = false;
  framing: BodyFraming = 'none';
  bodyBytes: Bytes = 0;
  headerBytes: Bytes = 0;
  /** Every byte of this response on the wire, interim responses included. */
  bytes: Bytes = 0;
  errorKind = '';
  /** Responses recognised on the cached-head path (tests check it is taken). */
  cachedResponses = 0;

  private parser: LlhttpParser = newLlhttpResponseParser();
  /** The final response is whole. */
  private done = false;
  private error = '';
  /** Interim responses seen before the final one. */
  private interim = 0;
  private headersSeen = false;
  private sawTransferEncoding = false;
  /** Bytes of this response up to the end of its final head, kept until the head is found. */
  private headParts: Buffer[] = [];
  private headLength = 0;
  private headKnown = false;
  /** Hot path: the bytes of the last cacheable head, and the body length still expected on it. */
  private cachedHead: Buffer | undefined;
  private cachedStatus = 0;
  private cachedLength = 0;
  private fastRemaining = -1;

  constructor() {
    this.bind();
  }

  /** A new connection: parser state starts over (the head cache survives, it is only bytes). */
  resetConnection(): void {
    this.parser = newLlhttpResponseParser();
    this.bind();
    this.startResponse();
  }

  /** A new request was sent: the next bytes start its response. */
  startResponse(): void {
    this.done = false;
    this.error = '';
    this.errorKind = '';
    this.interim = 0;
    this.headersSeen = false;
    this.sawTransferEncoding = false;
    this.headParts = [];
    this.headLength = 0;
    this.headKnown = false;
    this.fastRemaining = -1;
    this.bytes = 0;
    this.bodyBytes = 0;
    this.headerBytes = 0;
    this.status = 0;
    this.framing = 'none';
  }

  /**
   * The next bytes of the stream: `chunk[0, length)` (all of it by default). The chunk may be a view of a
   * receive buffer that is reused after this call (StreamConnection's): the cached-head path only reads it,
   * and what the llhttp path keeps (the head's bytes) is copied first.
   */
  feed(chunk: Buffer, length: number = chunk.length): ParseStep {
    if (this.fastRemaining >= 0) return this.feedFast(chunk, length);
    const cached = this.cachedHead;
    if (this.bytes === 0 && cached !== undefined && length >= cached.length && chunk.compare(cached, 0, cached.length, 0, cached.length) === 0) {
      this.status = this.cachedStatus;
      this.keepAlive = true;
      this.framing = 'content-length';
      this.headerBytes = cached.length;
      this.bodyBytes = this.cachedLength;
      this.fastRemaining = this.cachedLength + cached.length;
      this.cachedResponses += 1;
      return this.feedFast(chunk, length);
    }
    // Off the hot path: a copy of exactly these bytes, which the head parts may keep past this call.
    const own = Buffer.from(chunk.subarray(0, length));
    // Bytes after the response is whole (only a caller that keeps feeding sends them): llhttp decides
    // whether they are harmless (CRLF between messages) or a response nobody asked for.
    const wasDone = this.done;
    if (!wasDone) {
      this.bytes += length;
      if (!this.headKnown) this.headParts.push(own);
    }
    const r = this.parser.execute(own);
    if (this.error !== '') return this.fail(this.error);
    if (typeof r !== 'number') return this.fail('bad-response');
    if (wasDone) return complete;
    if (!this.headKnown && this.headersSeen) this.findHead();
    return this.done ? this.finishResponse() : needMore;
  }

  /** The peer closed the connection: a close-delimited body ends here, anything else was cut short. */
  end(): ParseStep {
    if (this.fastRemaining >= 0) return this.fail('closed-early');
    const r = this.parser.finish();
    if (this.error !== '') return this.fail(this.error);
    if (r instanceof Error) return this.fail('closed-early');
    if (!this.headKnown && this.headersSeen) this.findHead();
    return this.done ? this.finishResponse() : this.fail('closed-early');
  }

  private feedFast(chunk: Buffer, length: number): ParseStep {
    this.bytes += length;
    this.fastRemaining -= length;
    if (this.fastRemaining > 0) return needMore;
    const excess = -this.fastRemaining;
    this.fastRemaining = -1;
    this.done = true;
    if (excess === 0) return complete;
    // Bytes beyond the response: llhttp, at the message boundary the skipped response left it at, judges them.
    this.bytes -= excess;
    const r = this.parser.execute(chunk.subarray(length - excess, length));
    if (this.error !== '') return this.fail(this.error);
    return typeof r === 'number' ? complete : this.fail('bad-response');
  }

  private fail(kind: string): ParseStep {
    this.errorKind = kind;
    this.fastRemaining = -1;
    return failed;
  }

  private finishResponse(): ParseStep {
    this.headerBytes = this.headKnown ? this.headLength : 0;
    this.cachedHead = undefined;
    if (this.framing === 'content-length' && this.keepAlive && this.interim === 0 && this.headKnown && !this.sawTransferEncoding) {
      const part = this.headParts[0] as Buffer;
      const head = this.headParts.length === 1 ? Buffer.from(part.subarray(0, this.headLength)) : Buffer.concat(this.headParts, this.headLength);
      this.cachedHead = head;
      this.cachedStatus = this.status;
      this.cachedLength = this.bodyBytes;
    }
    this.headParts = [];
    return complete;
  }

  /** The final head ends at the (interim + 1)-th CRLFCRLF: strict llhttp accepts no bare-LF heads, 1xx have no body. */
  private findHead(): void {
    const buf = this.headParts.length === 1 ? this.headParts[0] as Buffer : Buffer.concat(this.headParts);
    let end = -4;
    for (let i = 0; i <= this.interim; i += 1) {
      end = buf.indexOf(crlfcrlf, end + 4);
      if (end < 0) return;
    }
    this.headLength = end + 4;
    this.headKnown = true;
    this.headParts = [buf.subarray(0, this.headLength)];
  }

  private bind(): void {
    const p = this.parser;
    p[HTTPParser.kOnMessageBegin] = (): void => {
      if (this.done && this.error === '') this.error = 'bad-response'; // a second response nobody asked for
    };
    p[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[], _method: unknown, _url: unknown,
      statusCode: number, _message: string, _upgrade: boolean, shouldKeepAlive: boolean): number => {
      if (this.done) return 0;
      if (statusCode === 101) {
        if (this.error === '') this.error = 'upgrade-not-supported';
        return 0;
      }
      if (statusCode < 200) return 0; // interim: its message completes without a body
      this.headersSeen = true;
      this.status = statusCode;
      this.keepAlive = shouldKeepAlive;
      const { contentLength, transferEncoding: te } = framingHeaders(headers);
      this.sawTransferEncoding = te !== undefined;
      if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) this.framing = 'chunked';
      else if (contentLength) this.framing = 'content-length';
      else if (statusCode === 204 || statusCode === 304) this.framing = 'none';
      else this.framing = 'close';
      return 0;
    };
    p[HTTPParser.kOnBody] = (b: Buffer): void => {
      if (this.headersSeen && !this.done) this.bodyBytes += b.length;
    };
    p[HTTPParser.kOnMessageComplete] = (): void => {
      if (this.done) return;
      if (!this.headersSeen) {
        this.interim += 1;
        return;
      }
      this.done = true;
    };
  }
}
