import net from 'node:net';
import { errorKind, type ClientConnection, type ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds } from './units';

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
  /** Bytes of the response to the request in flight. */
  protected abstract onBytes(chunk: Buffer): void;
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
    const socket = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    this.connected = false;
    this.onNewSocket();
    this.events.onSocketOpened(this);
    socket.on('connect', () => {
      this.connected = true;
      if (this.busy) socket.write(this.message);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      if (this.busy) this.onBytes(chunk);
      else this.fail('unexpected-data');
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

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (s !== undefined) s.destroy();
  }
}
