import type { ConnectionEvents } from './clientConnection';
import { StreamConnection } from './streamConnection';
import type { LoadTarget } from './loadTarget';

const crlfcrlf = Buffer.from('\r\n\r\n');
const maxHeadBytes = 64 * 1024;
const contentLengthRe = /\r\ncontent-length:[ \t]*(\d+)/i;
const chunkedRe = /\r\ntransfer-encoding:[ \t]*[^\r]*chunked/i;
const closeRe = /\r\nconnection:[ \t]*close/i;

/** Builds the one request every send writes; built once, so the hot path only calls socket.write. */
export function buildHttpRequest(target: LoadTarget, payload: Buffer, headers: ReadonlyArray<readonly [string, string]>, keepAlive: boolean): Buffer {
  const method = payload.length > 0 ? 'POST' : 'GET';
  const lines = [`${method} ${target.path} HTTP/1.1`];
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  if (!names.has('host')) lines.push(`Host: ${target.authority}`);
  if (!names.has('user-agent')) lines.push('User-Agent: meshbench');
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (payload.length > 0) lines.push(`Content-Length: ${payload.length}`, 'Content-Type: application/octet-stream');
  if (!keepAlive) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/**
 * Returns the length of a complete chunked body at the start of `buf`, or -1 if more bytes are needed,
 * or -2 if it is malformed. Off the hot path: only servers that chunk use it.
 */
export function chunkedBodyLength(buf: Buffer): number {
  let pos = 0;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', pos, 'latin1');
    if (lineEnd < 0) return -1;
    const sizeText = buf.toString('latin1', pos, lineEnd).split(';')[0]?.trim() ?? '';
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return -2;
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) {
      // trailers, then an empty line
      for (;;) {
        const end = buf.indexOf('\r\n', pos, 'latin1');
        if (end < 0) return -1;
        if (end === pos) return end + 2;
        pos = end + 2;
      }
    }
    if (buf.length < pos + size + 2) return -1;
    pos += size + 2;
  }
}

/**
 * HTTP/1.1 client connection over `net`, hand-written because it is the hot path: node:http and undici
 * cost 2–4× the CPU per request, and the client must not be the bottleneck. It parses only the status,
 * Content-Length (or chunked framing) and Connection; a response head identical to the previous one
 * (the common case) is recognised with one memcmp and not parsed again.
 */
export class HttpConnection extends StreamConnection {
  private pending: Buffer | undefined;
  /** -1 while the head is incomplete; then body bytes still expected (Infinity: read until close). */
  private bodyRemaining = -1;
  private chunked = false;
  private status = 0;
  private closeAfter = false;
  private received = 0;
  private lastHead: Buffer | undefined;
  private lastHeadStatus = 0;
  private lastHeadLength = 0;
  private lastHeadClose = false;

  constructor(id: number, target: LoadTarget, request: Buffer, keepAlive: boolean, events: ConnectionEvents) {
    super(id, target, request, keepAlive, events);
  }

  protected override resetResponse(): void {
    this.bodyRemaining = -1;
    this.received = 0;
    this.pending = undefined;
  }

  protected override closeCompletes(): boolean {
    if (this.bodyRemaining !== Number.POSITIVE_INFINITY) return false;
    this.complete(this.status, this.received, true); // body delimited by close
    return true;
  }

  protected override onBytes(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.bodyRemaining >= 0) {
      if (this.chunked) this.onChunkedData(chunk);
      else {
        this.bodyRemaining -= chunk.length;
        this.checkDone();
      }
      return;
    }
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    const last = this.lastHead;
    let headEnd: number;
    if (last !== undefined && buf.length >= last.length && buf.compare(last, 0, last.length, 0, last.length) === 0) {
      headEnd = last.length;
      this.status = this.lastHeadStatus;
      this.closeAfter = this.lastHeadClose;
      this.chunked = false;
      this.bodyRemaining = this.lastHeadLength;
    } else {
      const i = buf.indexOf(crlfcrlf);
      if (i < 0) {
        if (buf.length > maxHeadBytes) this.fail('bad-response');
        else this.pending = buf;
        return;
      }
      headEnd = i + 4;
      if (!this.parseHead(buf, headEnd)) {
        this.fail('bad-response');
        return;
      }
    }
    this.pending = undefined;
    if (this.chunked) {
      this.bodyRemaining = 0;
      this.onChunkedData(buf.subarray(headEnd));
      return;
    }
    this.bodyRemaining -= buf.length - headEnd;
    this.checkDone();
  }

  private parseHead(buf: Buffer, headEnd: number): boolean {
    // "HTTP/1.x NNN"
    if (buf.length < 12 || buf[0] !== 0x48 || buf[5] !== 0x31 || buf[8] !== 0x20) return false;
    const status = ((buf[9] as number) - 48) * 100 + ((buf[10] as number) - 48) * 10 + ((buf[11] as number) - 48);
    if (!(status >= 100 && status <= 599)) return false;
    const head = buf.toString('latin1', 0, headEnd - 2);
    this.status = status;
    this.chunked = chunkedRe.test(head);
    this.closeAfter = closeRe.test(head) || buf[7] === 0x30; // HTTP/1.0 closes unless told otherwise
    const m = contentLengthRe.exec(head);
    if (this.chunked) this.bodyRemaining = 0;
    else if (m !== null) this.bodyRemaining = Number(m[1]);
    else if (status === 204 || status === 304 || status < 200) this.bodyRemaining = 0;
    else this.bodyRemaining = Number.POSITIVE_INFINITY;
    if (!this.chunked && m !== null) {
      this.lastHead = Buffer.from(buf.subarray(0, headEnd));
      this.lastHeadStatus = status;
      this.lastHeadLength = this.bodyRemaining;
      this.lastHeadClose = this.closeAfter;
    }
    return true;
  }

  private onChunkedData(data: Buffer): void {
    const buf = this.pending === undefined ? data : Buffer.concat([this.pending, data]);
    const n = chunkedBodyLength(buf);
    if (n === -2) {
      this.fail('bad-response');
      return;
    }
    if (n === -1) {
      this.pending = buf;
      return;
    }
    this.pending = undefined;
    this.bodyRemaining = buf.length - n === 0 ? 0 : -(buf.length - n);
    this.checkDone();
  }

  private checkDone(): void {
    if (this.bodyRemaining > 0) return;
    if (this.bodyRemaining < 0) {
      this.fail('bad-response'); // bytes beyond the response: the server pipelined or lied about length
      return;
    }
    this.bodyRemaining = -1;
    this.complete(this.status, this.received, this.closeAfter);
  }
}
