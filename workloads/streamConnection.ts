import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { errorKind, type ClientConnection, type ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds } from './units';

/**
 * The one receive buffer every connection reads into (net.connect's `onread`), as wrk reads each socket into
 * a fixed buffer: no Buffer allocated per read and no Readable stream between the kernel and the parser.
 * Sharing one is safe because each read is handed to its connection synchronously and parsed before the
 * next read (onBytes keeps no reference to it). 64 KiB: Node's own read size, so large bodies take as few
 * reads as with 'data' events. Measured under the machine lock: see README "What one request costs".
 */
const receiveBuffer = Buffer.allocUnsafe(64 * 1024);

/** A write request of Node's stream binding (lib/internal/stream_base_commons.js createWriteWrap). */
interface WriteReq {
  handle: RawStreamHandle;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
}

/** The libuv stream under a net.Socket (`socket._handle`, a TCPWrap). */
interface RawStreamHandle {
  /** 0, or a negative errno; a write that the kernel took whole completes synchronously (streamBaseState says). */
  writeBuffer(req: WriteReq, data: Buffer): number;
}

interface StreamWrapBinding {
  readonly WriteWrap: new () => WriteReq;
  readonly streamBaseState: Int32Array;
  readonly kLastWriteWasAsync: number;
}

/**
 * Node's stream binding, for writing a request straight to the socket's libuv handle (one uv_try_write, one
 * write(2)) as wrk writes its buffer, without net.Socket's Writable state machine and the nextTick it queues
 * per write (afterWriteTick). It is what socket.write itself calls (stream_base_commons writeGeneric); reached
 * through process.binding('stream_wrap'), internal but unchanged since Node 12 (as the llhttp binding the
 * response parser uses). Undefined where it is not there: every write then goes through socket.write.
 * Measured under the machine lock: see README "What one request costs".
 */
const streamWrap: StreamWrapBinding | undefined = ((): StreamWrapBinding | undefined => {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamWrapBinding> }).binding('stream_wrap');
    return typeof b.WriteWrap === 'function' && b.streamBaseState instanceof Int32Array && typeof b.kLastWriteWasAsync === 'number'
      ? b as StreamWrapBinding : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The socket life cycle every protocol client shares: connect lazily on the first send, write the
 * prebuilt message, reconnect after a close, turn socket errors into error kinds. Subclasses only frame
 * responses (`onBytes`) and call `complete` when one is whole.
 */
export abstract class StreamConnection implements ClientConnection {
  busy = false;
  intendedUs: Microseconds = 0;
  sentUs: Microseconds = 0;
  requestWritten = false;
  private socket: net.Socket | undefined;
  private connected = false;
  /** The write request reused for every write that completes synchronously (nearly all: a request is small). */
  private writeReq: WriteReq | undefined;

  constructor(
    readonly id: number,
    private readonly target: LoadTarget,
    private readonly message: Buffer,
    private readonly keepAlive: boolean,
    private readonly events: ConnectionEvents,
  ) {}

  send(intendedUs: Microseconds, nowUs: Microseconds): void {
    this.busy = true;
    this.intendedUs = intendedUs;
    this.sentUs = nowUs;
    this.requestWritten = false;
    this.resetResponse();
    if (this.socket !== undefined && this.connected) this.write(this.socket);
    else if (this.socket === undefined) this.open();
    // else: still connecting; the message goes out on connect
  }

  preconnect(): Promise<void> {
    if (!this.keepAlive || this.socket !== undefined) return Promise.resolve();
    const socket = this.open();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('connect', done);
        socket.off('close', done);
        resolve();
      };
      socket.once('connect', done);
      socket.once('close', done);
    });
  }

  abort(): void {
    this.busy = false;
    this.drop();
  }

  close(): void {
    this.abort();
  }

  /** A new socket: protocol state starts over. */
  protected onNewSocket(): void {
    // nothing by default
  }

  /** Forget any partial response before a new request. */
  protected abstract resetResponse(): void;
  /**
   * Bytes of the response to the request in flight: `buf[0, length)`, read in place into the shared receive
   * buffer, valid only during this call (copy what must outlive it).
   */
  protected abstract onBytes(buf: Buffer, length: Bytes): void;
  /** Whether the peer closing now completes the response (HTTP bodies delimited by close). */
  protected closeCompletes(): boolean {
    return false;
  }

  /** The response is whole. Drops the socket first when it must not be reused: the completion handler may send at once. */
  protected complete(status: number, bytesReceived: Bytes, headerBytes: Bytes, closeAfter: boolean): void {
    if (closeAfter || !this.keepAlive) this.drop();
    this.busy = false;
    this.events.onComplete(this, status, bytesReceived, headerBytes);
  }

  protected fail(kind: string): void {
    const wasBusy = this.busy;
    this.busy = false;
    this.drop();
    if (wasBusy) this.events.onError(this, kind);
  }

  private open(): net.Socket {
    const socket = net.connect({
      host: this.target.host, port: this.target.port, noDelay: true,
      onread: { buffer: receiveBuffer, callback: (length: number, buf: Uint8Array): boolean => this.onRead(socket, buf as Buffer, length) },
    });
    this.socket = socket;
    this.connected = false;
    this.onNewSocket();
    this.events.onSocketOpened(this);
    socket.on('connect', () => {
      this.connected = true;
      if (this.busy) {
        this.requestWritten = true;
        socket.write(this.message);
      }
    });
    socket.on('error', (err) => { if (this.socket === socket) this.fail(errorKind(err)); });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      // Forget the socket first: completing may send the next request on a new one.
      this.socket = undefined;
      this.connected = false;
      if (this.busy && !this.closeCompletes()) this.fail('closed-early');
    });
    return socket;
  }

  /**
   * One write of the prebuilt message straight to the libuv handle. A write the kernel does not take whole
   * continues asynchronously (libuv finishes it); its request object is then libuv's until it completes, so
   * the next write takes a new one. Errors surface as the socket's would: a failed request, its errno's name.
   */
  private write(socket: net.Socket): void {
    const handle = (socket as unknown as { _handle: RawStreamHandle | null })._handle;
    if (streamWrap === undefined || handle === null) {
      this.requestWritten = true;
      socket.write(this.message);
      return;
    }
    let req = this.writeReq;
    if (req === undefined) {
      const r = new streamWrap.WriteWrap();
      r.async = false;
      r.bytes = 0;
      r.buffer = null;
      // Only an asynchronous write completes through here; a socket replaced since then is none of its business.
      r.oncomplete = (status: number): void => {
        const current = this.socket as unknown as { _handle: RawStreamHandle | null } | undefined;
        if (status < 0 && current !== undefined && current._handle === r.handle) this.fail(getSystemErrorName(status));
      };
      req = r;
      this.writeReq = r;
    }
    req.handle = handle;
    const err = handle.writeBuffer(req, this.message);
    if (err !== 0) {
      this.fail(getSystemErrorName(err));
      return;
    }
    this.requestWritten = true;
    if (streamWrap.streamBaseState[streamWrap.kLastWriteWasAsync] !== 0) {
      req.buffer = this.message;
      this.writeReq = undefined;
    }
  }

  /** Always true: keep reading (false would pause the socket). */
  private onRead(socket: net.Socket, buf: Buffer, length: number): boolean {
    if (this.socket !== socket) return true;
    if (this.busy) this.onBytes(buf, length);
    else this.fail('unexpected-data');
    return true;
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (s !== undefined) s.destroy();
  }
}
