import assert from 'node:assert/strict';
import net from 'node:net';
import { EchoServer } from '../../workloads/echoServer';
import { parseControls } from '../../workloads/echoControls';
import { runCli, startEchoChild } from '../helpers/cli';

/** Sends raw bytes and collects the reply until the server closes or `until` matches. */
function exchange(port: number, data: string, until: (s: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (until(got)) { s.destroy(); resolve(got); }
    });
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('echo server', () => {
  let server: EchoServer;
  let port: number;
  before(async () => {
    server = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'http', random: () => 0 });
    port = (await server.listen()).port;
  });
  after(() => server.close());

  it('echoes the request body with 200 on keep-alive', async () => {
    const reply = await exchange(port, 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', (s) => s.endsWith('hello'));
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /Content-Length: 5\r\n/);
    assert.doesNotMatch(reply, /Connection: close/);
  });

  it('applies status, size and close from the query string', async () => {
    const reply = await exchange(port, 'GET /?status=503&size=10&close=true HTTP/1.1\r\nHost: a\r\n\r\n', () => false);
    assert.match(reply, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(reply, /Connection: close\r\n/);
    assert.ok(reply.endsWith('\r\n\r\nxxxxxxxxxx'));
  });

  it('answers pipelined requests in order, a delayed one included', async () => {
    const req = (q: string): string => `GET /?${q} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const reply = await exchange(port, req('delay=20ms&status=201') + req('status=202') + req('status=203'), (s) => (s.match(/HTTP\/1\.1/g) ?? []).length === 3);
    assert.deepEqual([...reply.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]), ['201', '202', '203']);
  });

  it('rejects bad controls with 400 and the reason', async () => {
    const reply = await exchange(port, 'GET /?delay=5ms:200 HTTP/1.1\r\nHost: a\r\n\r\n', () => false);
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /delay: probability "200"/);
  });

  it('holds a 1 ms delay to within 300 µs on the server side', async () => {
    const t0 = performance.now();
    await exchange(port, 'GET /?delay=1ms HTTP/1.1\r\nHost: a\r\n\r\n', (s) => s.includes('\r\n\r\n'));
    const ms = performance.now() - t0;
    assert.ok(ms >= 1 && ms < 5, `took ${ms} ms`);
  });

  it('echoes raw TCP', async () => {
    const tcp = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'tcp', defaults: parseControls('') });
    const p = (await tcp.listen()).port;
    try {
      assert.equal(await exchange(p, 'ping-pong', (s) => s.length >= 9), 'ping-pong');
    } finally {
      await tcp.close();
    }
  });
});

describe('meshbench echo CLI', () => {
  it('refuses a port in use with one line and a non-zero exit', async () => {
    const echo = await startEchoChild();
    try {
      const r = await runCli(['echo', '--port', String(echo.port), '--duration', '1s']);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /port \d+ on 127\.0\.0\.1 is in use/);
    } finally {
      await echo.stop();
    }
  });

  it('refuses bad controls and unknown flags without a stack trace', async () => {
    for (const args of [['echo', '--delay', 'soon'], ['echo', '--frobnicate'], ['echo', '--port', '70000']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\s+at /);
    }
  });
});
