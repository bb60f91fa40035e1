import http2 from 'node:http2';
import net from 'node:net';

/*
 * The check client of `meshbench cluster check` and of every deployment's path check: sends N requests on ONE
 * kept-alive connection, prints one JSON line with the statuses, then holds the connection open until its
 * stdin closes, so the harness can count the connections the request path established. Run inside the client
 * pod.
 *   node holdClient.js HOST PORT N [http|http2|grpc|tcp]
 * http: HTTP/1.1 requests written on a socket. tcp: N lines, each echoed back whole before the next (no
 * status: `echoed` counts them). http2: GET
 * requests as streams of one h2c session (prior knowledge). grpc: unary `fgrpc.PingServer/Ping` calls on one
 * h2c session, framed by hand (5-byte length prefix, a PingMessage with its seq field), as the check needs
 * one call and no library; a call whose grpc-status is not 0 fails the check.
 */

interface Reply {
  readonly statuses: number[];
  readonly grpcStatuses?: number[];
  /** tcp: messages that came back byte for byte. */
  readonly echoed?: number;
  readonly elapsedUs?: number;
  readonly local?: string;
  readonly error?: string;
}

function say(reply: Reply): void {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

/** Holds until stdin closes, then closes the connection and exits. */
function holdUntilStdinCloses(close: () => void): void {
  const end = (): void => { close(); setTimeout(() => process.exit(0), 50); };
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', end);
  process.stdin.on('close', end);
}

/** How a check reports: `fail` ends the process with an error line, `answered` with the statuses (then it holds). */
interface Outcome {
  readonly fail: (why: string, statuses: number[]) => void;
  readonly answered: (reply: Reply, close: () => void) => void;
}

function http1(host: string, port: number, count: number, { fail, answered }: Outcome, started: bigint): void {
  const statuses: number[] = [];
  let buffer = '';
  const socket = net.connect({ host, port });
  const send = (): void => {
    socket.write(`GET /?n=${statuses.length} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Length: 0\r\n\r\n`);
  };
  socket.setNoDelay(true);
  socket.on('connect', send);
  socket.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message, statuses));
  socket.on('close', () => { if (statuses.length < count) fail('closed-early', statuses); });
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    for (;;) {
      const head = buffer.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buffer);
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(buffer.slice(0, head));
      const bodyLen = len === null ? 0 : Number(len[1]);
      if (buffer.length < head + 4 + bodyLen) return;
      statuses.push(m === null ? 0 : Number(m[1]));
      buffer = buffer.slice(head + 4 + bodyLen);
      if (statuses.length < count) {
        send();
      } else {
        answered({ statuses, elapsedUs: Number(process.hrtime.bigint() - started) / 1000, local: `${socket.localAddress}:${socket.localPort}` }, () => socket.end());
      }
    }
  });
}

function tcpEcho(host: string, port: number, count: number, { fail, answered }: Outcome, started: bigint): void {
  let echoed = 0;
  let buffer = '';
  const message = (): string => `meshbench path check ${echoed}\n`;
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  socket.on('connect', () => socket.write(message()));
  socket.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message, []));
  socket.on('close', () => { if (echoed < count) fail('closed-early', []); });
  socket.on('data', (d: Buffer) => {
    buffer += d.toString('latin1');
    const expected = message();
    if (buffer.length < expected.length) return;
    if (buffer !== expected) {
      fail(`the echo returned other bytes than were sent (${JSON.stringify(buffer.slice(0, 40))})`, []);
      return;
    }
    buffer = '';
    echoed += 1;
    if (echoed < count) socket.write(message());
    else answered({ statuses: [], echoed, elapsedUs: Number(process.hrtime.bigint() - started) / 1000, local: `${socket.localAddress}:${socket.localPort}` }, () => socket.end());
  });
}

/** A gRPC length-prefixed message (gRPC over HTTP/2, "Length-Prefixed-Message") holding PingMessage{seq}. */
export function pingRequestFrame(seq: number): Buffer {
  const varint: number[] = [];
  let v = seq;
  do {
    varint.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v = Math.floor(v / 128);
  } while (v > 0);
  const message = seq === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...varint]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

function http2Requests(host: string, port: number, count: number, grpc: boolean, { fail, answered }: Outcome, started: bigint): void {
  const statuses: number[] = [];
  const grpcStatuses: number[] = [];
  const session = http2.connect(`http://${host}:${port}`);
  session.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message, statuses));
  session.on('goaway', (code) => { if (statuses.length < count) fail(`GOAWAY ${code}`, statuses); });
  session.on('close', () => { if (statuses.length < count) fail('closed-early', statuses); });
  const next = (): void => {
    const n = statuses.length;
    const headers: http2.OutgoingHttpHeaders = grpc
      ? { ':method': 'POST', ':path': '/fgrpc.PingServer/Ping', 'content-type': 'application/grpc', te: 'trailers' }
      : { ':method': 'GET', ':path': `/?n=${n}` };
    const stream = session.request(headers, { endStream: !grpc });
    let status = 0;
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    stream.on('response', (h) => {
      status = Number(h[':status'] ?? 0);
      // A trailers-only reply (an error) carries grpc-status in its headers.
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) grpcStatus = String(t['grpc-status']);
      if (t['grpc-message'] !== undefined) grpcMessage = String(t['grpc-message']);
    });
    stream.on('data', () => undefined);
    stream.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message, statuses));
    stream.on('close', () => {
      if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
        fail(`RST_STREAM ${stream.rstCode}`, statuses);
        return;
      }
      statuses.push(status);
      if (grpc) {
        if (grpcStatus !== '0') {
          fail(grpcStatus === undefined ? `no grpc-status (HTTP ${status})` : `grpc-status ${grpcStatus}${grpcMessage === '' ? '' : ` ${decodeURIComponent(grpcMessage)}`}`, statuses);
          return;
        }
        grpcStatuses.push(0);
      }
      if (statuses.length < count) {
        next();
        return;
      }
      const socket = session.socket;
      answered({ statuses, ...(grpc ? { grpcStatuses } : {}), elapsedUs: Number(process.hrtime.bigint() - started) / 1000, local: `${socket.localAddress ?? ''}:${socket.localPort ?? ''}` }, () => session.close());
    });
    if (grpc) stream.end(pingRequestFrame(n));
  };
  session.on('connect', next);
}

function main(): void {
  const [host, portText, countText, protocolText] = process.argv.slice(2);
  const port = Number(portText);
  const count = Number(countText ?? '3');
  const protocol = protocolText ?? 'http';
  if (host === undefined || !Number.isInteger(port) || !Number.isInteger(count) || count < 1 || !['http', 'http2', 'grpc', 'tcp'].includes(protocol)) {
    say({ statuses: [], error: 'usage: holdClient HOST PORT N [http|http2|grpc|tcp]' });
    process.exit(2);
  }
  const started = process.hrtime.bigint();
  const timer = setTimeout(() => fail('timeout', []), 10_000);
  let failed = false;
  const fail = (why: string, statuses: number[]): void => {
    if (failed) return;
    failed = true;
    clearTimeout(timer);
    say({ error: why, statuses });
    process.exit(1);
  };
  // The timer bounds the requests only: once they are answered, the hold lasts until stdin closes.
  const answered = (reply: Reply, close: () => void): void => {
    clearTimeout(timer);
    say(reply);
    holdUntilStdinCloses(close);
  };
  if (protocol === 'http2' || protocol === 'grpc') http2Requests(host, port, count, protocol === 'grpc', { fail, answered }, started);
  else if (protocol === 'tcp') tcpEcho(host, port, count, { fail, answered }, started);
  else http1(host, port, count, { fail, answered }, started);
}

if (require.main === module) main();
