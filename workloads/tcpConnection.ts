import type { ConnectionEvents } from './clientConnection';
import type { LoadTarget } from './loadTarget';
import { StreamConnection } from './streamConnection';

/** Raw TCP echo client: writes the message, waits until as many bytes came back. */
export class TcpConnection extends StreamConnection {
  private received = 0;

  constructor(id: number, target: LoadTarget, private readonly expectedBytes: number, message: Buffer, keepAlive: boolean, events: ConnectionEvents) {
    super(id, target, message, keepAlive, events);
  }

  protected override resetResponse(): void {
    this.received = 0;
  }

  protected override onBytes(_buf: Buffer, length: number): void {
    this.received += length;
    if (this.received < this.expectedBytes) return;
    if (this.received > this.expectedBytes) this.fail('bad-response');
    else this.complete(0, this.received, 0, false);
  }
}
