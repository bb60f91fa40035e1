import net from 'node:net';
import { errorKind, type ClientConnection, type ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import type { Microseconds } from './units';

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
export class HttpConnection implements ClientConnection {
  busy = false;
  intendedUs: Microseconds = 0;
  sentUs: Microseconds = 0;
  private socket: net.Socket | undefined;
  private connected = false;
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

  constructor(
    readonly id: number,
    private readonly target: LoadTarget,
    private readonly request: Buffer,
    private readonly keepAlive: boolean,
    private readonly events: ConnectionEvents,
  ) {}

  send(intendedUs: Microseconds, nowUs: Microseconds): void {
    this.busy = true;
    this.intendedUs = intendedUs;
    this.sentUs = nowUs;
    this.bodyRemaining = -1;
    this.received = 0;
    this.pending = undefined;
    if (this.socket !== undefined && this.connected) this.socket.write(this.request);
    else if (this.socket === undefined) this.open();
    // else: connecting; the request goes out on connect
  }

  abort(): void {
    this.busy = false;
    this.drop();
  }

  close(): void {
    this.busy = false;
    this.drop();
  }

  private open(): void {
    const socket = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    this.connected = false;
    this.events.onSocketOpened();
    socket.on('connect', () => {
      this.connected = true;
      if (this.busy) socket.write(this.request);
    });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (err) => this.fail(socket, errorKind(err)));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      if (this.busy && this.bodyRemaining === Number.POSITIVE_INFINITY) {
        this.socket = undefined;
        this.finish(); // body delimited by close
        return;
      }
      this.fail(socket, 'closed-early');
    });
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.connected = false;
    this.pending = undefined;
    if (s !== undefined) s.destroy();
  }

  private fail(socket: net.Socket, kind: string): void {
    if (this.socket !== socket) return;
    const wasBusy = this.busy;
    this.busy = false;
    this.drop();
    if (wasBusy) this.events.onError(this, kind);
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    if (!this.busy) {
      this.fail(socket, 'unexpected-data');
      return;
    }
    this.received += chunk.length;
    if (this.bodyRemaining >= 0) {
      if (this.chunked) this.onChunkedData(socket, chunk);
      else {
        this.bodyRemaining -= chunk.length;
        this.checkDone(socket);
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
        if (buf.length > maxHeadBytes) this.fail(socket, 'bad-response');
        else this.pending = buf;
        return;
      }
      headEnd = i + 4;
      if (!this.parseHead(buf, headEnd)) {
        this.fail(socket, 'bad-response');
        return;
      }
    }
    this.pending = undefined;
    if (this.chunked) {
      this.bodyRemaining = 0;
      this.onChunkedData(socket, buf.subarray(headEnd));
      return;
    }
    this.bodyRemaining -= buf.length - headEnd;
    this.checkDone(socket);
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

  private onChunkedData(socket: net.Socket, data: Buffer): void {
    const buf = this.pending === undefined ? data : Buffer.concat([this.pending, data]);
    const n = chunkedBodyLength(buf);
    if (n === -2) {
      this.fail(socket, 'bad-response');
      return;
    }
    if (n === -1) {
      this.pending = buf;
      return;
    }
    this.pending = undefined;
    this.bodyRemaining = buf.length - n === 0 ? 0 : -(buf.length - n);
    this.checkDone(socket);
  }

  private checkDone(socket: net.Socket): void {
    if (this.bodyRemaining > 0) return;
    if (this.bodyRemaining < 0) {
      this.fail(socket, 'bad-response'); // bytes beyond the response: the server pipelined or lied about length
      return;
    }
    // Drop first: the completion handler may send the next request on this connection at once.
    if (this.closeAfter || !this.keepAlive) this.drop();
    this.finish();
  }

  private finish(): void {
    this.busy = false;
    this.bodyRemaining = -1;
    this.events.onComplete(this, this.status, this.received);
  }
}
