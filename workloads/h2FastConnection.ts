import net from 'node:net';
import tls from 'node:tls';
import { errorKind, type ConnectionEvents } from './clientConnection';
import { goawayKind, H2StreamSlot, notHttp2Kind, rstStreamKind } from './h2Connection';
import { GrpcMessageCounter } from './grpcFraming';
import { blockIsStateless, clientPreface, flag, frame, frameHeaderBytes, frameType, HpackDecoder, quickStatus, writeFrameHeader } from './h2Framing';
import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds } from './units';

/*
 * HTTP/2 client framing written by hand for the load client's hot path (HTTP/2 requests with bodies up to
 * 16 KiB, and gRPC calls), because node:http2 builds a Duplex stream object, a headers object and several
 * events per request. Measured under the machine lock against nginx h2c (1 worker on CPU 1, client on CPU 0,
 * 1 connection × 8 streams, 3 s, same run): h2load 68,700 req/s, a bare node:http2 loop 14,200, meshbench on
 * node:http2 11,500 (0.17× h2load); on this client, 0.6–1.0× h2load in bench:workloads' HTTP/2 section (2 × 8
 * streams; the README's Benchmarks table). Larger bodies stay on node:http2 (h2Connection.ts), which does their
 * per-stream flow control; here a body is one DATA frame under the connection window and the peer's initial
 * stream window. RFC 9113: one header block per request, built once (HPACK literals without indexing,
 * h2Framing.ts); the response's :status from the static table when its block leaves the HPACK table untouched,
 * else (and for gRPC's grpc-status) from a full HPACK decoder (hpack.js).
 */

/** The TLS server refused every protocol offered (RFC 7301 §3.2's no_application_protocol alert): it has no h2. */
export function alpnRefused(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL';
}

/** One stream slot's part of a connection: the request in flight on it and what has come back. */
export interface InFlight {
  slot: H2FastStream;
  status: number;
  bodyBytes: Bytes;
  headBytes: Bytes;
  /** gRPC: grpc-status from the trailers (or a trailers-only response); undefined until one came. */
  grpcStatus: number | undefined;
  /** gRPC: the response's content-type, to tell a reply that is no gRPC response at all (GrpcAnswerKind). */
  contentType: string | undefined;
  /** gRPC: the reply's length-prefixed messages, counted as DATA arrives. */
  messages: GrpcMessageCounter | undefined;
  /** gRPC health Check: the reply's bytes, to read its ServingStatus. */
  body: Buffer[] | undefined;
}

/** What every request of a run sends: its header block and, for gRPC, its framed message (empty for GET). */
export interface FastRequest {
  readonly block: Buffer;
  readonly body: Buffer;
  /** gRPC: responses carry grpc-status and length-prefixed messages. */
  readonly grpc: boolean;
  /** gRPC health Check: keep the reply's bytes. */
  readonly keepBody: boolean;
}

/** Connection-window bytes received before a WINDOW_UPDATE gives them back (the window starts at 2^31 − 1). */
const windowRefillBytes = 2 ** 30;

/**
 * The stream slots of one connection slot group: a current HTTP/2 connection (H2Wire), replaced when it is
 * lost or after the server's GOAWAY (the old one finishes its streams and closes).
 */
export class H2FastSession {
  private wire: H2Wire | undefined;
  private readonly slots: H2FastStream[] = [];

  constructor(private readonly target: LoadTarget, private readonly req: FastRequest, private readonly events: ConnectionEvents) {}

  attach(slot: H2FastStream): void {
    this.slots.push(slot);
  }

  private current(): H2Wire {
    let w = this.wire;
    if (w === undefined || !w.usable) {
      w = new H2Wire(this.target, this.req);
      this.wire = w;
      const first = this.slots[0];
      if (first !== undefined) this.events.onSocketOpened(first);
    }
    return w;
  }

  preconnect(): Promise<void> {
    return this.current().opening;
  }

  /** Sends the slot's request on a new stream of the current connection; returns that connection. */
  request(slot: H2FastStream): H2Wire {
    const w = this.current();
    w.request(slot);
    return w;
  }

  close(): void {
    this.wire?.close();
    this.wire = undefined;
  }
}

/**
 * One HTTP/2 connection over `net` (or `tls` with ALPN h2): the preface sent before any request, frames
 * parsed as they come. Requests written in the same tick go out in one write.
 */
export class H2Wire {
  private socket: net.Socket | undefined;
  readonly opening: Promise<void>;
  private readonly inFlight = new Map<number, InFlight>();
  private nextStreamId = 1;
  private sawSettings = false;
  private decoder = new HpackDecoder();
  private pending: Buffer[] = [];
  private flushQueued = false;
  private carry: Buffer | undefined;
  /** A header block split over HEADERS + CONTINUATION frames: its stream, fragments, END_STREAM. */
  private headerBlock: { streamId: number; parts: Buffer[]; endStream: boolean } | undefined;
  private receivedUnacked = 0;
  /** After GOAWAY: the last stream the server processed; new requests go to a new connection. */
  private goaway: { lastStreamId: number; code: number } | undefined;
  private lost = false;
  /** Buffers given to write() so far, and how many of them flushNow has handed to the connected socket. */
  private queuedWrites = 0;
  private flushedWrites = 0;

  /** Send flow control (RFC 9113 §6.9): the connection's window and the peer's initial stream window. */
  private connectionSendWindow = 65_535;
  private peerInitialWindow = 65_535;
  /** DATA frames waiting for the connection window (gRPC messages; GET sends none). */
  private readonly blockedData: Array<{ streamId: number; frame: Buffer; length: number }> = [];

  constructor(private readonly target: LoadTarget, private readonly req: FastRequest) {
    this.opening = this.open();
  }

  /** New streams may go on it: not lost, no GOAWAY, stream ids left. */
  get usable(): boolean {
    return !this.lost && this.goaway === undefined && this.nextStreamId < 0x7ffffff0;
  }

  /** Sends the slot's request on a new stream (a lost connection fails it at once, in a later tick). */
  request(slot: H2FastStream): void {
    slot.writeSeq = 0;
    if (this.lost) {
      queueMicrotask(() => slot.failed('closed-early'));
      return;
    }
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const req = this.req;
    this.inFlight.set(id, {
      slot, status: 0, bodyBytes: 0, headBytes: 0, grpcStatus: undefined, contentType: undefined,
      messages: req.grpc ? new GrpcMessageCounter() : undefined, body: req.keepBody ? [] : undefined,
    });
    slot.streamId = id;
    const block = req.block;
    const body = req.body;
    if (body.length === 0) {
      const out = Buffer.allocUnsafe(frameHeaderBytes + block.length);
      writeFrameHeader(out, 0, block.length, frameType.headers, flag.endHeaders | flag.endStream, id);
      block.copy(out, frameHeaderBytes);
      this.write(out);
      slot.writeSeq = this.queuedWrites;
      return;
    }
    // HEADERS then one DATA frame with END_STREAM (bodies here are at most 16 KiB, SETTINGS_MAX_FRAME_SIZE's floor).
    const headers = Buffer.allocUnsafe(frameHeaderBytes + block.length);
    writeFrameHeader(headers, 0, block.length, frameType.headers, flag.endHeaders, id);
    block.copy(headers, frameHeaderBytes);
    const data = Buffer.allocUnsafe(frameHeaderBytes + body.length);
    writeFrameHeader(data, 0, body.length, frameType.data, flag.endStream, id);
    body.copy(data, frameHeaderBytes);
    if (this.blockedData.length === 0 && body.length <= this.connectionSendWindow && body.length <= this.peerInitialWindow) {
      this.connectionSendWindow -= body.length;
      this.write(Buffer.concat([headers, data]));
    } else {
      this.write(headers);
      this.blockedData.push({ streamId: id, frame: data, length: body.length });
    }
    slot.writeSeq = this.queuedWrites;
  }

  /** Whether the buffer write() numbered `seq` (1, 2, …; 0 is none) went to the connected socket. */
  flushed(seq: number): boolean {
    return seq > 0 && seq <= this.flushedWrites;
  }

  /** Sends the DATA frames the connection window now has room for, in order. */
  private flushBlocked(): void {
    while (this.blockedData.length > 0) {
      const d = this.blockedData[0] as { streamId: number; frame: Buffer; length: number };
      if (d.length > this.connectionSendWindow || d.length > this.peerInitialWindow) return;
      this.blockedData.shift();
      if (!this.inFlight.has(d.streamId)) continue;
      this.connectionSendWindow -= d.length;
      this.write(d.frame);
    }
  }

  /** Cancels the slot's stream (RST_STREAM CANCEL): a timeout or the end of the run; the connection stays. */
  cancel(streamId: number): void {
    if (!this.inFlight.delete(streamId)) return;
    const code = Buffer.alloc(4);
    code.writeUInt32BE(8, 0);
    this.write(frame(frameType.rstStream, 0, streamId, code));
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.lost = true;
    this.inFlight.clear();
    if (s !== undefined) s.destroy();
  }

  private write(buf: Buffer): void {
    this.pending.push(buf);
    this.queuedWrites += 1;
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      if (this.connected) this.flushNow();
    });
  }

  /** Writes what is pending (the preface first); before the socket connects, it waits for 'connect'. */
  private flushNow(): void {
    const s = this.socket;
    const p = this.pending;
    if (s === undefined || s.destroyed || p.length === 0) return;
    this.pending = [];
    this.flushedWrites = this.queuedWrites;
    s.write(p.length === 1 ? p[0] as Buffer : Buffer.concat(p));
  }

  private open(): Promise<void> {
    const t = this.target;
    const socket = t.tls
      ? tls.connect({ host: t.host, port: t.port, ALPNProtocols: ['h2'], rejectUnauthorized: false, ...(net.isIP(t.host) === 0 ? { servername: t.host } : {}) })
      : net.connect({ host: t.host, port: t.port, noDelay: true });
    socket.setNoDelay(true);
    this.socket = socket;
    this.pending = [clientPreface()];
    const opening = new Promise<void>((resolve) => {
      socket.once(t.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('close', () => resolve());
    });
    socket.once(t.tls ? 'secureConnect' : 'connect', () => {
      if (t.tls && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
        this.lose(socket, notHttp2Kind);
        return;
      }
      this.flushNow();
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      try {
        this.onBytes(chunk);
      } catch {
        this.lose(socket, this.sawSettings ? 'bad-response' : notHttp2Kind);
      }
    });
    socket.on('error', (err) => { if (this.socket === socket) this.lose(socket, alpnRefused(err) ? notHttp2Kind : errorKind(err)); });
    socket.on('close', () => { if (this.socket === socket) this.lose(socket, this.sawSettings || !this.connected ? 'closed-early' : notHttp2Kind); });
    socket.once(t.tls ? 'secureConnect' : 'connect', () => { this.connected = true; });
    return opening;
  }

  private connected = false;

  /** The connection is gone: requests in flight on it fail with `kind` (GOAWAY's code when it sent one). */
  private lose(socket: net.Socket, kind: string): void {
    if (this.socket === socket) this.socket = undefined;
    this.lost = true;
    socket.destroy();
    const lost = [...this.inFlight.values()];
    this.inFlight.clear();
    const k = this.goaway !== undefined ? goawayKind(this.goaway.code) : kind;
    for (const f of lost) f.slot.failed(k);
  }

  private onBytes(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let i = 0;
    const n = buf.length;
    if (!this.sawSettings && n >= 4 && buf[3] !== frameType.settings) throw new Error('not HTTP/2');
    while (n - i >= frameHeaderBytes) {
      const length = ((buf[i] as number) << 16) | ((buf[i + 1] as number) << 8) | (buf[i + 2] as number);
      if (n - i < frameHeaderBytes + length) break;
      const type = buf[i + 3] as number;
      const flags = buf[i + 4] as number;
      const streamId = buf.readUInt32BE(i + 5) & 0x7fffffff;
      const start = i + frameHeaderBytes;
      i = start + length;
      this.onFrame(type, flags, streamId, buf, start, length);
    }
    if (i < n) this.carry = Buffer.from(buf.subarray(i));
  }

  private onFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, length: number): void {
    switch (type) {
      case frameType.data: {
        this.receivedUnacked += length;
        if (this.receivedUnacked >= windowRefillBytes) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(this.receivedUnacked, 0);
          this.receivedUnacked = 0;
          this.write(frame(frameType.windowUpdate, 0, 0, inc));
        }
        const f = this.inFlight.get(streamId);
        if (f === undefined) return;
        const padLength = (flags & flag.padded) !== 0 ? (buf[start] as number) : 0;
        const pad = (flags & flag.padded) !== 0 ? 1 + padLength : 0;
        f.bodyBytes += length - pad;
        if (f.messages !== undefined) {
          const payload = buf.subarray(start + (pad > 0 ? 1 : 0), start + length - padLength);
          f.body?.push(Buffer.from(payload));
          if (!f.messages.feed(payload)) {
            this.cancel(streamId);
            f.slot.failed('bad-response');
            return;
          }
        }
        if ((flags & flag.endStream) !== 0) this.finish(streamId, f);
        return;
      }
      case frameType.headers: {
        let from = start;
        let to = start + length;
        if ((flags & flag.padded) !== 0) { to -= buf[from] as number; from += 1; }
        if ((flags & flag.priority) !== 0) from += 5;
        const fragment = buf.subarray(from, to);
        if ((flags & flag.endHeaders) !== 0) this.onHeaderBlock(streamId, fragment, (flags & flag.endStream) !== 0);
        else this.headerBlock = { streamId, parts: [Buffer.from(fragment)], endStream: (flags & flag.endStream) !== 0 };
        return;
      }
      case frameType.continuation: {
        const h = this.headerBlock;
        if (h === undefined || h.streamId !== streamId) throw new Error('CONTINUATION without HEADERS');
        h.parts.push(Buffer.from(buf.subarray(start, start + length)));
        if ((flags & flag.endHeaders) !== 0) {
          this.headerBlock = undefined;
          this.onHeaderBlock(streamId, Buffer.concat(h.parts), h.endStream);
        }
        return;
      }
      case frameType.rstStream: {
        const f = this.inFlight.get(streamId);
        if (f === undefined) return;
        this.inFlight.delete(streamId);
        const code = buf.readUInt32BE(start);
        if (code === 7 /* REFUSED_STREAM: not processed, RFC 9113 §8.7 */ && f.slot.retry()) return;
        f.slot.failed(rstStreamKind(code));
        return;
      }
      case frameType.settings:
        if ((flags & flag.ack) !== 0) return;
        this.sawSettings = true;
        for (let p = start; p + 6 <= start + length; p += 6) {
          if (buf.readUInt16BE(p) === 0x4) this.peerInitialWindow = buf.readUInt32BE(p + 2);
        }
        this.write(frame(frameType.settings, flag.ack, 0));
        this.flushBlocked();
        return;
      case frameType.windowUpdate:
        if (streamId === 0) {
          this.connectionSendWindow += buf.readUInt32BE(start) & 0x7fffffff;
          this.flushBlocked();
        }
        return;
      case frameType.ping:
        if ((flags & flag.ack) === 0) this.write(frame(frameType.ping, flag.ack, 0, Buffer.from(buf.subarray(start, start + 8))));
        return;
      case frameType.goaway: {
        const lastStreamId = buf.readUInt32BE(start) & 0x7fffffff;
        const code = buf.readUInt32BE(start + 4);
        this.goaway = { lastStreamId, code };
        // An error code ends the connection now (RFC 9113 §5.4.1; node:http2 destroys its session too): what
        // is in flight on it is lost, counted under the code.
        if (code !== 0 && this.socket !== undefined) {
          this.lose(this.socket, goawayKind(code));
          return;
        }
        // Streams the server did not process are retried on a new connection (RFC 9113 §6.8), once each.
        for (const [id, f] of [...this.inFlight]) {
          if (id <= lastStreamId) continue;
          this.inFlight.delete(id);
          if (!f.slot.retry()) f.slot.failed(goawayKind(code));
        }
        if (this.inFlight.size === 0 && this.socket !== undefined) this.retire(this.socket);
        return;
      }
      case frameType.pushPromise:
        throw new Error('PUSH_PROMISE after SETTINGS_ENABLE_PUSH=0');
      default:
        // PRIORITY, and unknown types (RFC 9113 §4.1: ignored); a stream's WINDOW_UPDATE matters not: each body fits the initial window
    }
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    // Every block goes through the decoder's state (or is known to leave it alone), whichever stream it is for.
    let status = !this.req.grpc && blockIsStateless(block) === true ? quickStatus(block) : undefined;
    let grpcStatus: number | undefined;
    let contentType: string | undefined;
    if (status === undefined) {
      for (const h of this.decoder.decode(block)) {
        if (h.name === ':status') status ??= Number(h.value);
        else if (h.name === 'grpc-status') grpcStatus = Number(h.value);
        else if (h.name === 'content-type') contentType = h.value;
      }
    }
    const f = this.inFlight.get(streamId);
    if (f === undefined) return;
    if (grpcStatus !== undefined) f.grpcStatus = grpcStatus;
    if (contentType !== undefined) f.contentType = contentType;
    // The header list size (RFC 7541 §4.1) is what node:http2 reports too; here the block's wire size is known, and used.
    f.headBytes += block.length;
    if (f.status === 0 || (f.status >= 100 && f.status < 200)) {
      // Trailers carry no :status; only a response's first block must.
      if (status === undefined) throw new Error('response without :status');
      // RFC 9110 §15: three digits, 100–599; anything else is no status the runner can count.
      if (!(status >= 100 && status <= 599)) {
        this.cancel(streamId);
        f.slot.failed('bad-response');
        return;
      }
      f.status = status;
      // 1xx interim responses (RFC 9113 §8.1): the final one follows.
      if (status >= 100 && status < 200 && !endStream) return;
    }
    if (endStream) this.finish(streamId, f);
  }

  private finish(streamId: number, f: InFlight): void {
    this.inFlight.delete(streamId);
    f.slot.finished(f);
    const s = this.socket;
    if (this.goaway !== undefined && this.inFlight.size === 0 && s !== undefined) this.retire(s);
  }

  /** After GOAWAY with nothing left in flight: close quietly (no request is lost with it). */
  private retire(s: net.Socket): void {
    this.socket = undefined;
    this.lost = true;
    s.end();
  }
}

/**
 * A stream slot over H2FastSession: the runner's ClientConnection with one request in flight, as
 * H2StreamConnection over node:http2. Error kinds as there: `rst-stream:<code>`, `goaway:<code>`, `not-http2`.
 */
export class H2FastStream extends H2StreamSlot {
  streamId = 0;
  /** The number H2Wire.request gave the request's HEADERS write on `wire` (0: none). */
  writeSeq = 0;
  private wire: H2Wire | undefined;
  /** A request retried after GOAWAY had already gone out on the connection that refused it. */
  private writtenBeforeRetry = false;

  constructor(readonly id: number, private readonly session: H2FastSession, protected readonly events: ConnectionEvents) {
    super();
    session.attach(this);
  }

  send(intendedUs: Microseconds, nowUs: Microseconds): void {
    this.begin(intendedUs, nowUs);
    this.writtenBeforeRetry = false;
    this.wire = this.session.request(this);
  }

  /** See ClientConnection.requestWritten: its HEADERS left in a flush on the connected socket. */
  get requestWritten(): boolean {
    return this.writtenBeforeRetry || (this.wire !== undefined && this.wire.flushed(this.writeSeq));
  }

  preconnect(): Promise<void> {
    return this.session.preconnect();
  }

  abort(): void {
    if (this.busy) this.wire?.cancel(this.streamId);
    this.busy = false;
  }

  close(): void {
    this.busy = false;
    this.session.close();
  }

  /** The server refused the stream without processing it: send it again on a new connection, once. */
  retry(): boolean {
    if (!this.busy || this.retried) return false;
    this.retried = true;
    this.writtenBeforeRetry = this.requestWritten;
    // Later, not inside the old connection's frame loop: the new one is opened by the session.
    queueMicrotask(() => { if (this.busy) this.wire = this.session.request(this); });
    return true;
  }

  /** The stream ended cleanly with END_STREAM: report it (gRPC slots read grpc-status first). */
  finished(f: InFlight): void {
    this.completed(f.status, f.bodyBytes + f.headBytes, f.headBytes);
  }

  /** A whole response; `answerKind` names an answer that is no success although its status is (gRPC's GrpcAnswerKind). */
  completed(status: number, bytes: Bytes, headBytes: Bytes, answerKind?: string): void {
    if (!this.busy) return;
    this.busy = false;
    this.events.onComplete(this, status, bytes, headBytes, answerKind);
  }

  failed(kind: string): void {
    if (!this.busy) return;
    this.busy = false;
    this.events.onError(this, kind);
  }
}
