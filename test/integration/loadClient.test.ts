import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EchoServer } from '../../workloads/echoServer';
import { LoadRunner } from '../../workloads/loadRunner';
import { parseTarget } from '../../workloads/loadTarget';
import type { LoadOptions } from '../../workloads/loadOptions';
import type { LoadResult } from '../../workloads/loadResult';
import { runCli, startEchoChild } from '../helpers/cli';

function options(url: string, patch: Partial<LoadOptions> = {}): LoadOptions {
  return {
    target: parseTarget(url), qps: 0, connections: 2, durationUs: undefined, requests: 200, warmupUs: 0, payloadBytes: 0,
    headers: [], keepAlive: true, timeoutUs: 5_000_000, labels: '', ...patch,
  };
}

/** A port nobody listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('load client against the echo server (loopback)', function () {
  this.timeout(60_000);
  let server: EchoServer;
  let base: string;
  before(async () => {
    server = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'http' });
    base = `http://127.0.0.1:${(await server.listen()).port}`;
  });
  after(() => server.close());

  it('sends exactly --requests requests on keep-alive connections', async () => {
    const before = server.stats.requests;
    const r = await new LoadRunner(options(`${base}/`, { requests: 500, connections: 3 })).run();
    assert.equal(r.requestsCompleted, 500);
    assert.equal(r.requestsFailed, 0);
    assert.equal(server.stats.requests - before, 500);
    assert.deepEqual(r.statusCounts, { 200: 500 });
    assert.equal(r.socketsOpened, 3);
    assert.equal(r.latency.count, 500);
  });

  it('opens one connection per request without keep-alive', async () => {
    const acceptedBefore = server.stats.connectionsAccepted;
    const r = await new LoadRunner(options(`${base}/`, { requests: 50, keepAlive: false })).run();
    assert.equal(r.requestsCompleted, 50);
    assert.equal(r.socketsOpened, 50);
    assert.equal(server.stats.connectionsAccepted - acceptedBefore, 50);
  });

  it('counts status codes and bodies from the controls', async () => {
    const r = await new LoadRunner(options(`${base}/?status=503&size=100`, { requests: 20, payloadBytes: 10 })).run();
    assert.deepEqual(r.statusCounts, { 503: 20 });
    assert.ok(r.bytesReceived >= 20 * 100);
  });

  it('holds a fixed rate and records the warm-up apart', async () => {
    const r = await new LoadRunner(options(`${base}/`, { qps: 500, requests: undefined, durationUs: 1_000_000, warmupUs: 200_000 })).run();
    assert.ok(Math.abs(r.requestsCompleted - 500) <= 1, `completed ${r.requestsCompleted}`);
    assert.ok(Math.abs(r.actualQps - 500) / 500 < 0.01, `qps ${r.actualQps}`);
    assert.equal(r.options.mode, 'fixed-rate');
  });

  it('echoes raw TCP messages of the payload size', async () => {
    const tcp = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'tcp' });
    const port = (await tcp.listen()).port;
    try {
      const r = await new LoadRunner(options(`tcp://127.0.0.1:${port}`, { requests: 100, payloadBytes: 64 })).run();
      assert.equal(r.requestsCompleted, 100);
      assert.equal(r.bytesReceived, 6400);
    } finally {
      await tcp.close();
    }
  });

  it('counts refused connections as an error kind and still ends with a result', async () => {
    const port = await closedPort();
    const r = await new LoadRunner(options(`http://127.0.0.1:${port}/`, { requests: 5, connections: 1 })).run();
    assert.equal(r.requestsCompleted, 0);
    assert.equal(r.errorsByKind.ECONNREFUSED, 5);
  });
});

describe('coordinated omission: a server that stalls 200 ms once in 10 s at 1,000 QPS', function () {
  this.timeout(60_000);
  let result: LoadResult;
  before(async () => {
    const echo = await startEchoChild();
    try {
      const stall = setTimeout(() => {
        echo.proc.kill('SIGSTOP');
        setTimeout(() => echo.proc.kill('SIGCONT'), 200);
      }, 5000);
      result = await new LoadRunner(options(`http://127.0.0.1:${echo.port}/`, { qps: 1000, connections: 4, requests: undefined, durationUs: 10_000_000 })).run();
      clearTimeout(stall);
    } finally {
      await echo.stop();
    }
  });

  it('holds the rate within 1 %', () => {
    assert.ok(Math.abs(result.actualQps - 1000) / 1000 < 0.01, `qps ${result.actualQps}`);
  });
  it('shows the stall in the corrected P99 (≥ 100 ms), as wrk2 would', () => {
    assert.ok((result.latency.percentilesUs['99'] ?? 0) >= 100_000, `p99 ${result.latency.percentilesUs['99']} µs`);
  });
  it('does not show it in the service-time P99', () => {
    assert.ok((result.serviceTime.percentilesUs['99'] ?? 0) < 50_000, `service p99 ${result.serviceTime.percentilesUs['99']} µs`);
    assert.ok(result.serviceTime.maxUs >= 150_000, 'the requests in flight during the stall did wait');
  });
});

describe('latency resolution', function () {
  this.timeout(30_000);
  this.retries(2); // a shared 2-core machine can wake a process late; the bound itself stays strict
  it('puts P50 within 1 ms + 100 µs against delay=1ms', async () => {
    const echo = await startEchoChild();
    try {
      const r = await new LoadRunner(options(`http://127.0.0.1:${echo.port}/?delay=1ms`, { connections: 1, requests: undefined, durationUs: 2_000_000, warmupUs: 200_000 })).run();
      const p50 = r.latency.percentilesUs['50'] ?? 0;
      assert.ok(p50 >= 1000 && p50 <= 1100, `p50 ${p50} µs`);
    } finally {
      await echo.stop();
    }
  });
});

describe('meshbench load CLI', function () {
  this.timeout(30_000);
  let tmp: string;
  before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-load-')); });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the JSON result and a fortio-compatible JSON', async () => {
    const echo = await startEchoChild();
    try {
      const json = path.join(tmp, 'r.json');
      const fortio = path.join(tmp, 'f.json');
      const r = await runCli(['load', `http://127.0.0.1:${echo.port}/`, '-q', '200', '-c', '2', '-n', '100', '--json', json, '--fortio-json', fortio]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /100 requests in/);
      const result = JSON.parse(fs.readFileSync(json, 'utf8')) as LoadResult;
      assert.equal(result.requestsCompleted, 100);
      assert.equal(typeof result.latency.histogram, 'string');
      const f = JSON.parse(fs.readFileSync(fortio, 'utf8')) as { RetCodes: Record<string, number>; DurationHistogram: { Count: number } };
      assert.deepEqual(f.RetCodes, { 200: 100 });
      assert.equal(f.DurationHistogram.Count, 100);
    } finally {
      await echo.stop();
    }
  });

  it('answers bad input with one line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['load', 'http://127.0.0.1:1/', '--bogus'], /unknown option/],
      [['load', 'http://127.0.0.1:1/', '--qps', 'fast'], /--qps must be/],
      [['load', 'http://127.0.0.1:1/', '--qps', '-3'], /--qps must be/],
      [['load', 'http:/x:y:z'], /not a URL|no host/],
      [['load', 'ftp://127.0.0.1/'], /unsupported scheme/],
      [['load', 'http://127.0.0.1:1/', '--json', '/nonexistent-dir/x.json'], /does not exist/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\s+at /);
    }
  });

  it('ends a run against a refused port with a result and a clear line', async () => {
    const port = await closedPort();
    const json = path.join(tmp, 'refused.json');
    const r = await runCli(['load', `http://127.0.0.1:${port}/`, '-n', '3', '-c', '1', '--json', json]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no request succeeded \(ECONNREFUSED: 3\)/);
    assert.equal((JSON.parse(fs.readFileSync(json, 'utf8')) as LoadResult).errorsByKind.ECONNREFUSED, 3);
  });
});
