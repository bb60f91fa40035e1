import net from 'node:net';
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

/**
 * The socket life cycle every protocol client shares: connect lazily on the first send, write the
 * prebuilt message, reconnect after a close, turn socket errors into error kinds. Subclasses only frame
 * responses (`onBytes`) and call `complete` when one is whole.
 */
export abstract class StreamConnection implements ClientConnection {
  busy = false;
  intendedUs: Microseconds = 0;
  sentUs: Microseconds = 0;
  private socket: net.Socket | undefined;
  private connected = false;

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
    this.resetResponse();
    if (this.socket !== undefined && this.connected) this.socket.write(this.message);
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
      if (this.busy) socket.write(this.message);
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
