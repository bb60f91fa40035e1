import type { ConnectionEvents } from './clientConnection';
import { StreamConnection } from './streamConnection';
import type { LoadTarget } from './loadTarget';
import { complete, HttpResponseParser, needMore } from './httpResponseParser';


/** Builds the one request every send writes; built once, so the hot path only calls socket.write. */
export function buildHttpRequest(target: LoadTarget, payload: Buffer, headers: ReadonlyArray<readonly [string, string]>, keepAlive: boolean): Buffer {
  const method = payload.length > 0 ? 'POST' : 'GET';
  const lines = [`${method} ${target.path} HTTP/1.1`];
  const names = new Set(headers.map(([n]) => n.toLowerCase()));
  if (!names.has('host')) lines.push(`Host: ${target.authority}`);
  if (!names.has('user-agent')) lines.push('User-Agent: meshbench');
  // As curl: a header the user gives replaces the one built from the URL's userinfo.
  if (target.authorization !== undefined && !names.has('authorization')) lines.push(`Authorization: ${target.authorization}`);
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (payload.length > 0) lines.push(`Content-Length: ${payload.length}`, 'Content-Type: application/octet-stream');
  if (!keepAlive) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/**
 * HTTP/1.1 client connection over `net`, hand-written because it is the hot path: node:http and undici
 * cost 2–4× the CPU per request, and the client must not be the bottleneck. Framing is llhttp's (see
 * httpResponseParser.ts); one request in flight per connection, no pipelining (as wrk and fortio).
 */
export class HttpConnection extends StreamConnection {
  private readonly parser = new HttpResponseParser();

  constructor(id: number, target: LoadTarget, request: Buffer, keepAlive: boolean, events: ConnectionEvents) {
    super(id, target, request, keepAlive, events);
  }

  protected override onNewSocket(): void {
    this.parser.resetConnection();
  }

  protected override resetResponse(): void {
    this.parser.startResponse();
  }

  protected override closeCompletes(): boolean {
    const p = this.parser;
    const step = p.end();
    if (step === complete) this.complete(p.status, p.bytes, p.headerBytes, true);
    else this.fail(p.errorKind);
    return true;
  }

  protected override onBytes(buf: Buffer, length: number): void {
    const p = this.parser;
    const step = p.feed(buf, length);
    if (step === needMore) return;
    if (step === complete) this.complete(p.status, p.bytes, p.headerBytes, !p.keepAlive);
    else this.fail(p.errorKind);
  }
}
