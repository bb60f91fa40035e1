import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { seededRandom } from '../../harness/results/stats/seededRandom';
import { EchoServer } from '../../workloads/echoServer';
import { GrpcEchoServer, parseGrpcControls } from '../../workloads/grpcEchoServer';
import { protoRoot } from '../../workloads/grpcProto';
import { H2EchoServer } from '../../workloads/h2EchoServer';
import { LoadRunner } from '../../workloads/loadRunner';
import { parseTarget } from '../../workloads/loadTarget';
import type { LoadOptions } from '../../workloads/loadOptions';
import type { LoadResult } from '../../workloads/loadResult';
import { toFortioJson } from '../../workloads/fortioExport';
import { runCli, startEchoChild } from '../helpers/cli';
import { fortioExportProblems } from '../helpers/fortioSchema';

const tlsDir = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tls');

function options(url: string, patch: Partial<LoadOptions> = {}): LoadOptions {
  return {
    target: parseTarget(url), qps: 0, connections: 1, streams: 1, durationUs: undefined, requests: 200, warmupUs: 0, payloadBytes: 0,
    headers: [], keepAlive: true, timeoutUs: 5_000_000, maxPending: 100_000, drainUs: 500_000, labels: '', ...patch,
  };
}

/** A raw node:http2 server whose every stream gets `onStream`; for the peers the echo never is (resets, GOAWAY). */
async function rawH2(onStream: (stream: http2.ServerHttp2Stream, session: http2.ServerHttp2Session) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); s.on('error', () => undefined); });
  server.on('stream', (stream) => { stream.on('error', () => undefined); onStream(stream, stream.session as http2.ServerHttp2Session); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of sessions) s.destroy(); server.close(() => r()); }),
  };
}

describe('HTTP/2 load client and echo (loopback)', function () {
  this.timeout(30_000);
  let server: H2EchoServer;
  let base: string;
  before(async () => {
    server = new H2EchoServer({ host: '127.0.0.1', port: 0 });
    base = `h2c://127.0.0.1:${(await server.listen()).port}`;
  });
  after(() => server.close());

  it('carries 8 concurrent streams on one TCP connection with --streams 8 (counted at the server)', async () => {
    const accepted = server.stats.connectionsAccepted;
    const streamsBefore = server.stats.streams;
    // 20 ms per reply: each slot's next request starts while the other seven are in flight.
    const r = await new LoadRunner(options(`${base}/`, { streams: 8, requests: 80, headers: [['delay', '20ms']] })).run();
    assert.equal(r.requestsCompleted, 80);
    assert.equal(r.requestsFailed, 0);
    assert.deepEqual(r.statusCounts, { 200: 80 });
    assert.equal(server.stats.connectionsAccepted - accepted, 1, 'one TCP connection');
    assert.equal(server.stats.streams - streamsBefore, 80);
    assert.equal(server.stats.maxConcurrentStreams, 8, 'eight streams open at once on it');
    assert.equal(r.socketsOpened, 1);
    assert.equal(r.options.streams, 8);
    assert.deepEqual(r.requestsPerConnection, [10, 10, 10, 10, 10, 10, 10, 10]);
  });

  it('applies the echo controls from headers and the query string', async () => {
    const r = await new LoadRunner(options(`${base}/?size=100`, { requests: 50, streams: 2, headers: [['status', '503']] })).run();
    assert.deepEqual(r.statusCounts, { 503: 50 });
    assert.equal(r.errorLatency.count, 50, 'a 503 is a failed call, as over HTTP/1.1');
    assert.ok(r.bytesReceived >= 50 * 100);
    const bad = await new LoadRunner(options(`${base}/?delay=forever`, { requests: 3 })).run();
    assert.deepEqual(bad.statusCounts, { 400: 3 });
    // A POST: the echo sends the body back; up to 16 KiB on the hand-written client, above through node:http2.
    for (const payloadBytes of [1000, 20_000]) {
      const post = await new LoadRunner(options(`${base}/`, { requests: 20, streams: 4, payloadBytes })).run();
      assert.deepEqual(post.statusCounts, { 200: 20 });
      assert.ok(post.bytesReceived >= 20 * payloadBytes);
    }
  });

  it('opens a new connection after the echo closes one with GOAWAY (close control), losing no request', async () => {
    const accepted = server.stats.connectionsAccepted;
    const r = await new LoadRunner(options(`${base}/?close=true`, { requests: 20 })).run();
    assert.equal(r.requestsCompleted, 20);
    assert.equal(r.requestsFailed, 0);
    assert.equal(server.stats.connectionsAccepted - accepted, 20);
  });

  it('speaks h2 over TLS (ALPN) to https:// targets', async () => {
    const tls = new H2EchoServer({ host: '127.0.0.1', port: 0, tls: { cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')), key: fs.readFileSync(path.join(tlsDir, 'key.pem')) } });
    const port = (await tls.listen()).port;
    try {
      const r = await new LoadRunner(options(`https://127.0.0.1:${port}/`, { requests: 30, streams: 3 })).run();
      assert.deepEqual(r.statusCounts, { 200: 30 });
      assert.equal(tls.stats.connectionsAccepted, 1);
    } finally {
      await tls.close();
    }
  });

  it('counts RST_STREAM by its error code and GOAWAY by its', async () => {
    const refusing = await rawH2((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
    const calm = await rawH2((_stream, session) => session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM));
    try {
      const r = await new LoadRunner(options(`h2c://127.0.0.1:${refusing.port}/`, { requests: 5 })).run();
      assert.deepEqual(r.errorsByKind, { 'rst-stream:REFUSED_STREAM': 5 });
      const g = await new LoadRunner(options(`h2c://127.0.0.1:${calm.port}/`, { requests: 3 })).run();
      assert.deepEqual(g.errorsByKind, { 'goaway:ENHANCE_YOUR_CALM': 3 });
      // The same through node:http2 (request bodies over 16 KiB).
      const rb = await new LoadRunner(options(`h2c://127.0.0.1:${refusing.port}/`, { requests: 5, payloadBytes: 20_000 })).run();
      assert.deepEqual(rb.errorsByKind, { 'rst-stream:REFUSED_STREAM': 5 });
      const gb = await new LoadRunner(options(`h2c://127.0.0.1:${calm.port}/`, { requests: 3, payloadBytes: 20_000 })).run();
      assert.deepEqual(gb.errorsByKind, { 'goaway:ENHANCE_YOUR_CALM': 3 });
    } finally {
      await refusing.close();
      await calm.close();
    }
  });

  it('names an HTTP/1.1-only server met with h2c: not-http2, and one line from the CLI', async () => {
    const h1 = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'http' });
    const port = (await h1.listen()).port;
    try {
      const r = await new LoadRunner(options(`h2c://127.0.0.1:${port}/`, { requests: 2 })).run();
      assert.deepEqual(r.errorsByKind, { 'not-http2': 2 });
      for (const url of [`h2c://127.0.0.1:${port}/`, `grpc://127.0.0.1:${port}`]) {
        const cli = await runCli(['load', url, '-n', '2', '-c', '1']);
        assert.equal(cli.code, 2, cli.stderr);
        assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
        assert.match(cli.stderr, /server does not speak HTTP\/2 \(prior knowledge\)/);
      }
    } finally {
      await h1.close();
    }
    // Over TLS: a server that does not negotiate h2 with ALPN.
    const https = await import('node:https');
    const tlsServer = https.createServer({ cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')), key: fs.readFileSync(path.join(tlsDir, 'key.pem')) }, (_q, res) => res.end('h1'));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', () => r()));
    try {
      const cli = await runCli(['load', `https://127.0.0.1:${(tlsServer.address() as net.AddressInfo).port}/`, '-n', '2', '-c', '1']);
      assert.equal(cli.code, 2, cli.stderr);
      assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
      assert.match(cli.stderr, /did not negotiate h2 with ALPN/);
    } finally {
      tlsServer.closeAllConnections();
      await new Promise<void>((r) => tlsServer.close(() => r()));
    }
  });
});

describe('gRPC load client and echo (loopback)', function () {
  this.timeout(30_000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-grpc-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('counts UNAVAILABLE on 10 % of calls under that status, and fortio\'s gRPC layout in the export', async () => {
    const server = new GrpcEchoServer({ host: '127.0.0.1', port: 0, grpcDefaults: parseGrpcControls('grpc-status=UNAVAILABLE:10'), random: seededRandom(15) });
    const port = (await server.listen()).port;
    try {
      const r = await new LoadRunner(options(`grpc://127.0.0.1:${port}`, { requests: 2000, connections: 2, streams: 4 })).run();
      const unavailable = r.statusCounts.UNAVAILABLE ?? 0;
      assert.equal(unavailable + (r.statusCounts.OK ?? 0), 2000);
      assert.ok(unavailable >= 160 && unavailable <= 240, `10 % ± 2 of 2000 UNAVAILABLE, got ${unavailable}`);
      assert.equal(unavailable, server.stats.statusCounts.UNAVAILABLE, 'the client counts what the server sent');
      assert.equal(r.errorLatency.count, unavailable);
      assert.equal(r.socketsOpened, 2);
      assert.equal(server.stats.connectionsAccepted, 2);
      const f = toFortioJson(r);
      assert.deepEqual(fortioExportProblems(JSON.parse(JSON.stringify(f))), []);
      assert.equal(f.RunType, 'GRPC Ping');
      assert.deepEqual(f.RetCodes, { SERVING: 2000 - unavailable, UNAVAILABLE: unavailable });
      assert.equal(f.NumThreads, 8);
      assert.equal(f.Streams, 4);
      assert.equal(f.Ping, true);
    } finally {
      await server.close();
    }
  });

  it('exits 1 naming the status when calls fail, after writing the result (CLI)', async () => {
    const echo = await startEchoChild(['--protocol', 'grpc', '--grpc-status', 'UNAVAILABLE:10']);
    try {
      const json = path.join(tmp, 'g.json');
      const fortio = path.join(tmp, 'gf.json');
      const r = await runCli(['load', `grpc://127.0.0.1:${echo.port}`, '-q', '0', '-c', '2', '-s', '4', '-n', '3000', '--json', json, '--fortio-json', fortio]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr.trim().split('\n').at(-1) as string, /^meshbench: \d+ of 3000 gRPC calls did not end OK \(UNAVAILABLE: \d+\)/);
      const result = JSON.parse(fs.readFileSync(json, 'utf8')) as LoadResult;
      const share = (result.statusCounts.UNAVAILABLE ?? 0) / 3000;
      assert.ok(share >= 0.08 && share <= 0.12, `share ${share}`);
      assert.deepEqual(fortioExportProblems(JSON.parse(fs.readFileSync(fortio, 'utf8'))), []);
      const ok = await runCli(['load', `grpc://127.0.0.1:${echo.port}`, '-n', '5', '-q', '0', '-H', 'grpc-status: OK']);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await echo.stop();
    }
  });

  it('serves fortio\'s ping and the health service to a plain @grpc/grpc-js client, and streams replies', async () => {
    const server = new GrpcEchoServer({ host: '127.0.0.1', port: 0 });
    const port = (await server.listen()).port;
    const def = protoLoader.fromJSON(protoRoot().toJSON(), { keepCase: true, longs: Number, defaults: true, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { fgrpc: { PingServer: grpc.ServiceClientConstructor }; grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    const ping = new pkg.fgrpc.PingServer(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const health = new pkg.grpc.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<{ seq: number; payload: string; ts: number }>((resolve, reject) => {
        (ping as unknown as { Ping: (m: object, cb: (e: Error | null, r: { seq: number; payload: string; ts: number }) => void) => void })
          .Ping({ seq: 7, payload: 'abc', delayNanos: 1_000_000 }, (e, r) => (e === null ? resolve(r) : reject(e)));
      });
      assert.equal(reply.seq, 7);
      assert.equal(reply.payload, 'abc');
      assert.ok(reply.ts > 0);
      const check = (service: string): Promise<string> => new Promise((resolve) => {
        (health as unknown as { Check: (m: object, cb: (e: grpc.ServiceError | null, r: { status: string }) => void) => void })
          .Check({ service }, (e, r) => resolve(e === null ? r.status : grpc.status[e.code] as string));
      });
      assert.equal(await check('ping'), 'SERVING');
      assert.equal(await check('ping_down'), 'NOT_SERVING');
      assert.equal(await check('nope'), 'NOT_FOUND');
      const h = await new LoadRunner({ ...options(`grpc://127.0.0.1:${port}`, { requests: 10 }), grpc: { method: '/grpc.health.v1.Health/Check', streamMessages: 1, pingDelayNs: 0, healthService: 'ping' } }).run();
      assert.deepEqual(h.statusCounts, { OK: 10 });
      const s = await new LoadRunner({ ...options(`grpc://127.0.0.1:${port}`, { requests: 10, streams: 2 }), grpc: { method: '/meshbench.PingStream/Ping', streamMessages: 5, pingDelayNs: 0, healthService: '' } }).run();
      assert.deepEqual(s.statusCounts, { OK: 10 });
      assert.equal(s.requestsFailed, 0);
      // 1000 calls of 105-byte messages: more than the 64 KiB connection window, so the client must wait for
      // the server's WINDOW_UPDATEs (RFC 9113 §6.9) and lose nothing.
      const big = await new LoadRunner(options(`grpc://127.0.0.1:${port}`, { requests: 1000, streams: 4, payloadBytes: 100 })).run();
      assert.deepEqual(big.statusCounts, { OK: 1000 });
    } finally {
      ping.close();
      health.close();
      await server.close();
    }
  });

  it('counts a NOT_SERVING health answer as answered, bytes and all, on both HTTP/2 clients, and exits 1 without "is it up?"', async () => {
    const server = new GrpcEchoServer({ host: '127.0.0.1', port: 0 });
    const port = (await server.listen()).port;
    const health = { method: '/grpc.health.v1.Health/Check', streamMessages: 1, pingDelayNs: 0, healthService: 'ping_down' };
    try {
      for (const client of ['fast', 'node']) {
        if (client === 'node') process.env.MESHBENCH_H2_CLIENT = 'node';
        try {
          const r = await new LoadRunner({ ...options(`grpc://127.0.0.1:${port}`, { requests: 10 }), grpc: health }).run();
          assert.equal(r.requestsCompleted, 10, client);
          assert.equal(r.requestsFailed, 0, client);
          assert.deepEqual(r.statusCounts, { 'health:NOT_SERVING': 10 }, client);
          assert.deepEqual(r.errorsByKind, {}, client);
          assert.equal(r.errorLatency.count, 10, client);
          assert.equal(r.successLatency.count, 0, client);
          assert.ok(r.bytesReceived > 10 * 5, `${client}: the answers' bytes are counted, got ${r.bytesReceived}`);
          assert.deepEqual(toFortioJson(r).RetCodes, { NOT_SERVING: 10 }, 'fortio keys it by the serving status');
        } finally {
          delete process.env.MESHBENCH_H2_CLIENT;
        }
      }
      const cli = await runCli(['load', `grpc://127.0.0.1:${port}`, '--health-service', 'ping_down', '-n', '5', '-q', '0', '-c', '1']);
      assert.equal(cli.code, 1, cli.stderr);
      const last = cli.stderr.trim().split('\n').at(-1) as string;
      assert.equal(last, 'meshbench: no request succeeded: every answer was an error (health:NOT_SERVING: 5)');
      assert.match(cli.stderr, /5 answered \(5 with a status other than OK\).*0 failed without an answer/);
    } finally {
      await server.close();
    }
  });

  it('says what an HTTP/2 server that is no gRPC server answered, in one line (exit 2)', async () => {
    const h2 = new H2EchoServer({ host: '127.0.0.1', port: 0 });
    const port = (await h2.listen()).port;
    try {
      const r = await new LoadRunner(options(`grpc://127.0.0.1:${port}`, { requests: 4 })).run();
      assert.equal(r.requestsCompleted, 4);
      assert.deepEqual(r.statusCounts, { 'not-grpc:application/octet-stream': 4 });
      assert.ok(r.bytesReceived > 0);
      assert.deepEqual(toFortioJson(r).RetCodes, { ERROR: 4 });
      const cli = await runCli(['load', `grpc://127.0.0.1:${port}`, '-n', '2', '-c', '1']);
      assert.equal(cli.code, 2, cli.stderr);
      assert.equal(cli.stderr.trim().split('\n').length, 1, cli.stderr);
      assert.match(cli.stderr, /^meshbench: not a gRPC server: 127\.0\.0\.1:\d+ answered HTTP 200 with content-type application\/octet-stream and no grpc-status/);
      assert.doesNotMatch(cli.stderr, /up\?/);
    } finally {
      await h2.close();
    }
  });

  it('speaks gRPC over TLS to grpcs:// targets (ALPN h2), on both HTTP/2 clients; grpc:// at a TLS port says so', async () => {
    const server = new GrpcEchoServer({ host: '127.0.0.1', port: 0, tls: { cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')), key: fs.readFileSync(path.join(tlsDir, 'key.pem')) } });
    const port = (await server.listen()).port;
    try {
      const t = parseTarget(`grpcs://127.0.0.1:${port}`);
      assert.equal(t.protocol, 'grpc');
      assert.equal(t.tls, true);
      for (const client of ['fast', 'node']) {
        if (client === 'node') process.env.MESHBENCH_H2_CLIENT = 'node';
        try {
          const r = await new LoadRunner(options(`grpcs://127.0.0.1:${port}`, { requests: 40, streams: 2 })).run();
          assert.deepEqual(r.statusCounts, { OK: 40 }, client);
          assert.equal(r.requestsFailed, 0, client);
          assert.equal(r.socketsOpened, 1, client);
        } finally {
          delete process.env.MESHBENCH_H2_CLIENT;
        }
      }
      assert.equal(server.stats.statusCounts.OK, 80, 'the TLS server answered every call');
      const cli = await runCli(['load', `grpc://127.0.0.1:${port}`, '-n', '2', '-c', '1']);
      assert.equal(cli.code, 2, cli.stderr);
      assert.match(cli.stderr, /did not answer the connection preface with SETTINGS; .*a TLS one \(grpcs:\/\/\)\?/);
    } finally {
      await server.close();
    }
  });

  it('refuses bad gRPC input with one line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['load', 'grpc://127.0.0.1'], /grpc:\/\/ needs a port/],
      [['load', 'grpc://127.0.0.1:1/fgrpc.PingServer/Nope'], /unknown gRPC method "\/fgrpc.PingServer\/Nope"/],
      [['load', 'http://127.0.0.1:1/', '--streams', '8'], /--streams is for HTTP\/2 and gRPC/],
      [['load', 'h2c://127.0.0.1:1/', '--no-keepalive'], /--no-keepalive is for HTTP\/1.1/],
      [['echo', '--protocol', 'grpc', '--status', '503'], /grpc-status/],
      [['echo', '--protocol', 'quic'], /--protocol must be/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
  });
});

describe('hand-written HTTP/2 client against a server that splits everything (loopback)', function () {
  this.timeout(20_000);

  it('reads padded HEADERS + CONTINUATION, a dynamic-table status, PING and padded DATA, cut into 1–3 byte writes', async () => {
    const { frame } = await import('../../workloads/h2Framing');
    const nodeNet = await import('node:net');
    let pings = 0;
    const server = nodeNet.createServer((socket) => {
      socket.setNoDelay(true);
      let input = Buffer.alloc(0);
      let prefaceSeen = false;
      let answered = 0;
      const out: Buffer[] = [frame(4, 0, 0)];
      // One writer, 1–3 bytes per write, a turn of the event loop between writes: frames arrive cut anywhere.
      let pending = Buffer.alloc(0);
      let writing = false;
      let cut = 0;
      const pump = (): void => {
        pending = Buffer.concat([pending, ...out.splice(0)]);
        if (writing) return;
        writing = true;
        const step = (): void => {
          if (pending.length === 0 || socket.destroyed) { writing = false; return; }
          const n = 1 + (cut++ % 3);
          socket.write(pending.subarray(0, n));
          pending = pending.subarray(n);
          setImmediate(step);
        };
        step();
      };
      socket.on('data', (chunk: Buffer) => {
        input = Buffer.concat([input, chunk]);
        if (!prefaceSeen) {
          if (input.length < 24) return;
          input = input.subarray(24);
          prefaceSeen = true;
        }
        while (input.length >= 9) {
          const len = input.readUIntBE(0, 3);
          if (input.length < 9 + len) break;
          const type = input[3] as number;
          const flags = input[4] as number;
          const id = input.readUInt32BE(5) & 0x7fffffff;
          if (type === 6 && (flags & 1) !== 0) pings += 1;
          input = input.subarray(9 + len);
          if (type !== 1) continue;
          // First answer adds ":status: 503" to the table (literal, incremental indexing); later ones index it (62).
          const block = answered === 0 ? Buffer.from([0x48, 3, 0x35, 0x30, 0x33, 0x0f, 0x10, 1, 0x78]) : Buffer.from([0xbe, 0x0f, 0x10, 1, 0x78]);
          answered += 1;
          const padded = Buffer.concat([Buffer.from([2]), block.subarray(0, 2), Buffer.alloc(2)]);
          out.push(frame(6, 0, 0, Buffer.alloc(8, 7)));
          out.push(frame(1, 0x8, id, padded));
          out.push(frame(9, 0x4, id, block.subarray(2)));
          out.push(frame(0, 0x8 | 0x1, id, Buffer.concat([Buffer.from([3]), Buffer.from('hello'), Buffer.alloc(3)])));
        }
        if (out.length > 0) pump();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await new LoadRunner(options(`h2c://127.0.0.1:${port}/`, { requests: 12, streams: 3 })).run();
      assert.deepEqual(r.statusCounts, { 503: 12 });
      assert.equal(r.requestsFailed, 0);
      assert.equal(r.bytesReceived, 12 * 5 + 9 + 11 * 5, 'DATA without padding plus each header block');
      assert.ok(pings >= 1, 'PINGs are acknowledged');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('the pod bundle (dist/pod/workloads.js) speaks gRPC on its own', function () {
  this.timeout(20_000);

  it('serves and loads gRPC from a copy alone in a folder: the .proto files are inside it', async () => {
    const { spawn, execFile } = await import('node:child_process');
    const { workloadBundlePath } = await import('../../harness/platforms/kubernetes/workloadBundle');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bundle-'));
    const bundle = path.join(dir, 'workloads.js');
    fs.copyFileSync(workloadBundlePath, bundle);
    const echo = spawn(process.execPath, [bundle, 'echo', '--protocol', 'grpc', '--port', '0', '--duration', '15s'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let err = '';
        echo.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on [^\s]+:(\d+)/.exec(err);
          if (m !== null) resolve(Number(m[1]));
        });
        echo.once('exit', (code) => reject(new Error(`bundle echo exited ${code}: ${err}`)));
      });
      const out = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, [bundle, 'load', `grpc://127.0.0.1:${port}`, '-n', '20', '-q', '0', '--quiet', '--json', '-'], { cwd: dir }, (e, stdout, stderr) => (e === null ? resolve(stdout) : reject(new Error(stderr))));
      });
      assert.deepEqual((JSON.parse(out) as LoadResult).statusCounts, { OK: 20 });
    } finally {
      echo.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
