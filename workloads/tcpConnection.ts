import net from 'node:net';
import { errorKind, type ClientConnection, type ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import type { Microseconds } from './units';

/** Raw TCP echo client: writes the message, waits until as many bytes came back. */
export class TcpConnection implements ClientConnection {
  busy = false;
  intendedUs: Microseconds = 0;
  sentUs: Microseconds = 0;
  private socket: net.Socket | undefined;
  private connected = false;
  private received = 0;

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
    this.received = 0;
    if (this.socket !== undefined && this.connected) this.socket.write(this.message);
    else if (this.socket === undefined) this.open();
  }

  abort(): void {
    this.busy = false;
    this.drop();
  }

  close(): void {
    this.abort();
  }

  private open(): void {
    const socket = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    this.socket = socket;
    this.connected = false;
    this.events.onSocketOpened();
    socket.on('connect', () => {
      this.connected = true;
      if (this.busy) socket.write(this.message);
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      if (!this.busy) {
        this.fail(socket, 'unexpected-data');
        return;
      }
      this.received += chunk.length;
      if (this.received < this.message.length) return;
      if (this.received > this.message.length) {
        this.fail(socket, 'bad-response');
        return;
      }
      if (!this.keepAlive) this.drop();
      this.busy = false;
      this.events.onComplete(this, 0, this.received);
    });
    socket.on('error', (err) => this.fail(socket, errorKind(err)));
    socket.on('close', () => this.fail(socket, 'closed-early'));
  }

  private drop(): void {
    const s = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (s !== undefined) s.destroy();
  }

  private fail(socket: net.Socket, kind: string): void {
    if (this.socket !== socket) return;
    const wasBusy = this.busy;
    this.busy = false;
    this.drop();
    if (wasBusy) this.events.onError(this, kind);
  }
}
