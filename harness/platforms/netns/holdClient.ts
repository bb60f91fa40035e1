import net from 'node:net';

/*
 * The check client of `meshbench cluster check`: sends N HTTP/1.1 requests on ONE kept-alive connection,
 * prints one JSON line with the statuses, then holds the connection open until its stdin closes, so the
 * harness can count the connections the request path established. Run inside the client pod.
 *   node holdClient.js HOST PORT N
 */
function main(): void {
  const [host, portText, countText] = process.argv.slice(2);
  const port = Number(portText);
  const count = Number(countText ?? '3');
  if (host === undefined || !Number.isInteger(port) || !Number.isInteger(count) || count < 1) {
    process.stdout.write(`${JSON.stringify({ error: 'usage: holdClient HOST PORT N' })}\n`);
    process.exit(2);
  }
  const statuses: number[] = [];
  let buffer = '';
  const started = process.hrtime.bigint();
  const socket = net.connect({ host, port });
  const timer = setTimeout(() => fail('timeout'), 10_000);
  const fail = (why: string): void => {
    process.stdout.write(`${JSON.stringify({ error: why, statuses })}\n`);
    process.exit(1);
  };
  const send = (): void => {
    socket.write(`GET /?n=${statuses.length} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Length: 0\r\n\r\n`);
  };
  socket.setNoDelay(true);
  socket.on('connect', send);
  socket.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
  socket.on('close', () => { if (statuses.length < count) fail('closed-early'); });
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
        clearTimeout(timer);
        const elapsedUs = Number(process.hrtime.bigint() - started) / 1000;
        process.stdout.write(`${JSON.stringify({ statuses, elapsedUs, local: `${socket.localAddress}:${socket.localPort}` })}\n`);
        process.stdin.on('data', () => undefined);
        process.stdin.on('end', () => { socket.end(); setTimeout(() => process.exit(0), 50); });
        process.stdin.on('close', () => { socket.end(); setTimeout(() => process.exit(0), 50); });
      }
    }
  });
}

main();
