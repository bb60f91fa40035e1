import assert from 'node:assert/strict';
import net from 'node:net';
import { EchoServer } from '../../workloads/echoServer';
import { parseControls } from '../../workloads/echoControls';
import { execFile } from 'node:child_process';
import { runCli, startEchoChild } from '../helpers/cli';

/** Runs a Debian tool (ab from apache2-utils, installed by ci/setup.sh) and returns its stdout. */
function runTool(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${cmd}: ${err.message} ${stderr}`))));
  });
}

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

  it('adds 1 ms (−100 µs, +500 µs) for delay=1ms over delay=0, both timed in the same test (fastest of 20, interleaved)', async () => {
    // The fastest sample is the one least disturbed by other processes on a shared machine; interleaving
    // the two kinds spreads any drift over both.
    const best = { zero: Infinity, one: Infinity };
    for (let i = 0; i < 40; i += 1) {
      const kind = i % 2 === 0 ? 'zero' : 'one';
      const t0 = performance.now();
      await exchange(port, `GET /?delay=${kind === 'zero' ? '0' : '1ms'} HTTP/1.1\r\nHost: a\r\n\r\n`, (s) => s.includes('\r\n\r\n'));
      best[kind] = Math.min(best[kind], performance.now() - t0);
    }
    const extra = best.one - best.zero;
    assert.ok(extra >= 0.9 && extra <= 1.5, `delay=1ms ${best.one.toFixed(3)} ms, delay=0 ${best.zero.toFixed(3)} ms`);
  });

  it('rejects a malformed percent-escape with 400, counts it, and serves the next connection', async () => {
    const before = server.stats.rejected;
    const beforeBad = server.stats.rejectedByCode.BAD_CONTROL ?? 0;
    const reply = await exchange(port, 'GET /?delay=%zz HTTP/1.1\r\nHost: a\r\n\r\n', () => false);
    assert.match(reply, /^HTTP\/1\.1 400 [^]*Connection: close[^]*BAD_CONTROL: delay: "%zz" has a malformed percent-escape/);
    assert.equal(server.stats.rejected, before + 1);
    assert.equal(server.stats.rejectedByCode.BAD_CONTROL, beforeBad + 1);
    assert.match(await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', (s) => s.endsWith('\r\n\r\n')), /^HTTP\/1\.1 200 /);
  });

  it('confirms HTTP/1.0 keep-alive with the header and keeps the connection (RFC 9112 §9.3)', async () => {
    const req = 'GET /?status=201 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    const reply = await exchange(port, req + req, (s) => (s.match(/HTTP\/1\.1 201/g) ?? []).length === 2);
    assert.equal((reply.match(/Connection: keep-alive\r\n/g) ?? []).length, 2);
    assert.doesNotMatch(reply, /Connection: close/);
  });

  it('closes an HTTP/1.0 connection without keep-alive after the reply', async () => {
    const reply = await exchange(port, 'GET / HTTP/1.0\r\n\r\n', () => false); // resolves on the server's FIN
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n/);
  });

  it('answers Expect: 100-continue before the body is sent, then echoes the body', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n'));
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got === 'HTTP/1.1 100 Continue\r\n\r\n') s.write('hello');
        if (got.endsWith('hello')) { s.destroy(); resolve(got); }
      });
      s.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*Content-Length: 5\r\n/);
  });

  it('accepts a chunked body with extensions and trailers (RFC 9112 §7.1) and the pipelined request after it', async () => {
    const req = 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\n\r\n'
      + 'GET /?status=202 HTTP/1.1\r\nHost: a\r\n\r\n';
    const reply = await exchange(port, req, (s) => s.includes('202 Accepted') && s.endsWith('\r\n\r\n'));
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 11\r\n[^]*\r\n\r\nhello worldHTTP\/1\.1 202 /);
  });

  it('sends no body to HEAD and none with 204', async () => {
    const reply = await exchange(port, 'HEAD /?size=10 HTTP/1.1\r\nHost: a\r\n\r\nGET /?status=204&size=10 HTTP/1.1\r\nHost: a\r\n\r\nGET /?status=203 HTTP/1.1\r\nHost: a\r\n\r\n',
      (s) => s.includes('203 Status') && s.endsWith('\r\n\r\n'));
    assert.match(reply, /Content-Length: 10\r\nContent-Type: application\/octet-stream\r\n\r\nHTTP\/1\.1 204 No Content\r\nServer: meshbench\r\nContent-Type: application\/octet-stream\r\n\r\nHTTP\/1\.1 203/);
  });

  it('keeps byte order in the TCP echo under a random delay (1 ms or 15 ms per chunk)', async () => {
    let draws = 0;
    const tcp = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'tcp', defaults: parseControls('delay=15ms:50,1ms:50'), random: () => ((draws += 1) % 2 === 1 ? 0.1 : 0.9) });
    const p = (await tcp.listen()).port;
    try {
      const sent = Array.from({ length: 20 }, (_, i) => `<${i}>`);
      const got = await new Promise<string>((resolve, reject) => {
        const s = net.connect(p, '127.0.0.1', async () => {
          s.setNoDelay(true);
          for (const piece of sent) { s.write(piece); await new Promise((r) => setTimeout(r, 3)); }
        });
        let text = '';
        s.on('data', (d: Buffer) => { text += d.toString(); if (text.length >= sent.join('').length) { s.destroy(); resolve(text); } });
        s.on('error', reject);
      });
      assert.equal(got, sent.join(''));
      assert.ok(draws >= 10, `only ${draws} chunks were delayed separately`);
    } finally {
      await tcp.close();
    }
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
  it('serves ab -k (HTTP/1.0 keep-alive) and plain ab without a failed request', async function () {
    this.timeout(30_000);
    const echo = await startEchoChild();
    try {
      const keep = await runTool('ab', ['-k', '-n', '500', '-c', '4', `http://127.0.0.1:${echo.port}/`]);
      assert.match(keep, /Complete requests:\s+500\n/);
      assert.match(keep, /Failed requests:\s+0\n/);
      assert.match(keep, /Keep-Alive requests:\s+500\n/);
      const plain = await runTool('ab', ['-n', '100', '-c', '2', `http://127.0.0.1:${echo.port}/`]);
      assert.match(plain, /Complete requests:\s+100\n/);
      assert.match(plain, /Failed requests:\s+0\n/);
    } finally {
      await echo.stop();
    }
  });

  it('with --tcp, counts the bytes it echoed when it stops (raw TCP has no request boundaries)', async function () {
    this.timeout(10_000);
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('../helpers/cli');
    const proc = spawn(process.execPath, [cliPath, 'echo', '--tcp', '--port', '0', '--duration', '1s'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      proc.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on [\d.]+:(\d+)/.exec(err);
        if (m !== null) resolve(Number(m[1]));
      });
      proc.once('exit', () => reject(new Error(err)));
    });
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.write(Buffer.alloc(300, 120)));
      let got = 0;
      sock.on('data', (d: Buffer) => { got += d.length; if (got === 300) { sock.end(); resolve(); } });
      sock.on('error', reject);
    });
    await new Promise((resolve) => proc.once('exit', resolve));
    assert.match(err, /stopped after echoing 300 bytes on 1 connection\b/);
  });

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
    // A zero duration would stop the server before anything reached it (load's --duration 0 is refused too).
    const zero = await runCli(['echo', '--port', '0', '--duration', '0s']);
    assert.equal(zero.code, 2);
    assert.equal(zero.stderr, 'meshbench: --duration must be more than 0 (leave it out to run until Ctrl-C)\n');
    // Both control parsers, the general one and gRPC's, end in the same one line.
    for (const [args, said] of [
      [['echo', '--controls', 'size=abc'], 'bad echo control: size: "abc" is not a valid value'],
      [['echo', '--protocol', 'grpc', '--controls', 'grpc-status=%zz'], 'bad echo control: grpc-status: "%zz" has a malformed percent-escape'],
      // A default is checked strictly, unlike a request's query string: a typo would do no work and say nothing.
      [['echo', '--controls', 'brun=200us'], 'bad echo control: unknown control "brun": expected delay, status, size'],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(r.stderr.startsWith(`meshbench: ${said}`), r.stderr);
    }
  });
});
