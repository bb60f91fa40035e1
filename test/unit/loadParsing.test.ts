import assert from 'node:assert/strict';
import { parseTarget, redactHeaders, TargetSyntaxError } from '../../workloads/loadTarget';
import { buildHttpRequest } from '../../workloads/httpConnection';
import { complete, failed, HttpResponseParser, needMore } from '../../workloads/httpResponseParser';
import { loadOptionsFromFlags } from '../../harness/commands/loadCommand';
import { BadInputError } from '../../harness/errors';
import { maxQps, minimumWindowUs } from '../../workloads/windowFloor';

const flags = {
  qps: '8', connections: '4', warmup: '0s', payloadSize: '0', header: [] as string[], keepalive: true, timeout: '5s', drain: '500ms', labels: '',
};

describe('load target and flags', () => {
  it('parses http and tcp targets', () => {
    const h = parseTarget('http://127.0.0.1:8080/echo?delay=1ms');
    assert.equal(h.protocol, 'http');
    assert.equal(h.port, 8080);
    assert.equal(h.path, '/echo?delay=1ms');
    assert.equal(parseTarget('http://example.test/').port, 80);
    const t = parseTarget('tcp://[::1]:9000');
    assert.equal(t.protocol, 'tcp');
    assert.equal(t.host, '::1');
  });

  it('parses HTTP/2 and gRPC targets', () => {
    const h = parseTarget('h2c://127.0.0.1:8080/echo?delay=1ms');
    assert.equal(h.protocol, 'http2');
    assert.equal(h.tls, false);
    assert.equal(h.path, '/echo?delay=1ms');
    assert.equal(parseTarget('h2c://h').port, 80);
    const s = parseTarget('https://h/');
    assert.equal(s.protocol, 'http2');
    assert.equal(s.tls, true);
    assert.equal(s.port, 443);
    const g = parseTarget('grpc://[::1]:9000');
    assert.equal(g.protocol, 'grpc');
    assert.equal(g.path, '');
    assert.equal(parseTarget('grpc://h:1/grpc.health.v1.Health/Check').path, '/grpc.health.v1.Health/Check');
  });

  it('turns HTTP/2 and gRPC flags into options, refusing what does not fit the protocol', () => {
    const o = loadOptionsFromFlags('grpc://127.0.0.1:1', { ...flags, streams: '8', grpcPingDelay: '2ms' });
    assert.equal(o.streams, 8);
    assert.deepEqual(o.grpc, { method: '/fgrpc.PingServer/Ping', streamMessages: 1, pingDelayNs: 2_000_000, healthService: '' });
    assert.equal(loadOptionsFromFlags('grpc://127.0.0.1:1', { ...flags, grpcStream: '3' }).grpc?.method, '/meshbench.PingStream/Ping');
    assert.equal(loadOptionsFromFlags('grpc://127.0.0.1:1', { ...flags, healthService: 'ping' }).grpc?.method, '/grpc.health.v1.Health/Check');
    const bad: Array<[string, Record<string, unknown>, RegExp]> = [
      ['http://127.0.0.1:1/', { streams: '2' }, /--streams is for HTTP\/2 and gRPC/],
      ['h2c://127.0.0.1:1/', { streams: '0' }, /--streams/],
      ['h2c://127.0.0.1:1/', { streams: '2000' }, /^--streams 2000: at most 1000/],
      ['tcp://127.0.0.1:1', { streams: '4' }, /a TCP connection carries one message at a time/],
      ['h2c://127.0.0.1:1/', { keepalive: false }, /--no-keepalive/],
      ['h2c://127.0.0.1:1/', { grpcPingDelay: '1ms' }, /--grpc-ping-delay is for grpc:\/\//],
      ['grpc://127.0.0.1:1/x.Y/Z', {}, /unknown gRPC method/],
      ['grpc://127.0.0.1:1/fgrpc.PingServer/Ping', { grpcStream: '2' }, /--grpc-stream makes server-streaming calls/],
      ['grpc://127.0.0.1:1', { healthService: 'x', grpcPingDelay: '1ms' }, /--grpc-ping-delay is for the ping methods/],
    ];
    for (const [url, patch, re] of bad) {
      assert.throws(() => loadOptionsFromFlags(url, { ...flags, ...patch } as typeof flags), (e: unknown) => e instanceof BadInputError && re.test(e.message), `${url} ${JSON.stringify(patch)}`);
    }
  });

  it('rejects malformed URLs with a reason', () => {
    assert.throws(() => parseTarget('not a url'), TargetSyntaxError);
    assert.throws(() => parseTarget('ftp://h:1/'), /unsupported scheme "ftp"/);
    assert.throws(() => parseTarget('grpc://h'), /grpc:\/\/ needs a port/);
    assert.throws(() => parseTarget('grpc://u:p@h:1'), /no user:password/);
    assert.throws(() => parseTarget('tcp://h'), /needs a port/);
    assert.throws(() => parseTarget('tcp://u:p@h:1'), /no user:password/);
  });

  it('turns userinfo into Basic auth as curl does and prints the URL with the password redacted', () => {
    const t = parseTarget('http://al%20ice:s%40cret@127.0.0.1:8080/x');
    assert.equal(t.authorization, `Basic ${Buffer.from('al ice:s@cret').toString('base64')}`);
    assert.equal(t.url, 'http://al%20ice:***@127.0.0.1:8080/x');
    assert.equal(t.authority, '127.0.0.1:8080');
    const request = buildHttpRequest(t, Buffer.alloc(0), [], true).toString();
    assert.match(request, /\r\nAuthorization: Basic YWwgaWNlOnNAY3JldA==\r\n/);
    assert.doesNotMatch(t.url, /cret/);
    // A user-given Authorization header wins, as with curl -H.
    assert.doesNotMatch(buildHttpRequest(t, Buffer.alloc(0), [['Authorization', 'Bearer x']], true).toString(), /Basic/);
    assert.equal(parseTarget('http://bob@h/').authorization, `Basic ${Buffer.from('bob:').toString('base64')}`);
    assert.deepEqual(redactHeaders([['authorization', 'Bearer x'], ['X-A', '1']]), [['authorization', '***'], ['X-A', '1']]);
  });

  it('keeps the password out of the message when a URL with credentials is refused', () => {
    for (const bad of ['http://alice:hunter2@127.0.0.1:99999/', 'http://alice:hunter2@/', 'ftp://alice:hunter2@127.0.0.1/']) {
      assert.throws(() => parseTarget(bad), (err: Error) => err instanceof TargetSyntaxError && !err.message.includes('hunter2') && err.message.includes('alice:***@'));
    }
  });

  it('validates flags into options, one BadInputError per problem', () => {
    const o = loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, header: ['X-A: 1'] });
    assert.equal(o.durationUs, 5_000_000, 'fortio default duration');
    assert.deepEqual(o.headers, [['X-A', '1']]);
    const bad: Array<[Partial<typeof flags> & Record<string, unknown>, RegExp]> = [
      [{ qps: 'abc' }, /--qps/],
      [{ qps: '-5' }, /--qps/],
      [{ connections: '0' }, /--connections/],
      [{ connections: '1.5' }, /--connections/],
      [{ duration: 'soon' }, /--duration/],
      [{ duration: '0s' }, /--duration/],
      [{ payloadSize: '-1' }, /--payload-size/],
      [{ header: ['nocolon'] }, /--header/],
      [{ timeout: '0' }, /--timeout/],
      [{ maxPending: '-1' }, /--max-pending/],
      [{ maxPending: 'many' }, /--max-pending/],
      [{ drain: 'later' }, /--drain/],
      [{ drain: '2s', timeout: '1s' }, /^--drain 2s is longer than --timeout 1s/],
    ];
    for (const [patch, re] of bad) {
      assert.throws(() => loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, ...patch } as typeof flags), (e: unknown) => e instanceof BadInputError && re.test(e.message), JSON.stringify(patch));
    }
    assert.throws(() => loadOptionsFromFlags('http//x', flags), BadInputError);
    // The backlog cap defaults to what the rate issues in one --timeout; the drain never exceeds --timeout.
    assert.equal(loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, qps: '100', timeout: '2s' }).maxPending, 200);
    const { drain: _unset, ...noDrain } = flags;
    assert.equal(loadOptionsFromFlags('http://127.0.0.1:1/', { ...noDrain, timeout: '100ms' }).drainUs, 100_000, 'the default drain shrinks to a shorter --timeout');
    assert.equal(loadOptionsFromFlags('http://127.0.0.1:1/', noDrain).drainUs, 500_000);
    assert.equal(loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, qps: '0' }).maxPending, 4);
  });

  it('refuses a window too short to read a rate from, saying the minimum, and accepts that minimum', () => {
    const refused = (patch: Partial<typeof flags> & { duration?: string; requests?: string }): string => {
      try {
        loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, ...patch });
      } catch (e) {
        assert.ok(e instanceof BadInputError);
        return e.message;
      }
      return 'accepted';
    };
    // 8 qps: one request every 125 ms; 100 µs once read as 10,000 qps achieved.
    assert.equal(refused({ duration: '0.0001s' }), '--duration 100us is too short to measure a rate: at least 125ms (at 8 qps, one request interval)');
    assert.equal(refused({ duration: '124ms' }), '--duration 124ms is too short to measure a rate: at least 125ms (at 8 qps, one request interval)');
    assert.equal(refused({ duration: '125ms' }), 'accepted');
    assert.equal(refused({ duration: '0.0001s', qps: '0' }), '--duration 100us is too short to measure a rate: at least 1ms (the timers\' resolution)');
    assert.equal(refused({ duration: '1ms', qps: '0' }), 'accepted');
    // 3 qps: 333.33 ms, rounded up to whole ms so the figure printed is itself accepted.
    assert.match(refused({ duration: '333ms', qps: '3' }), /at least 334ms \(at 3 qps/);
    assert.equal(refused({ duration: '334ms', qps: '3' }), 'accepted');
    assert.equal(minimumWindowUs(100_000), 1000);
    assert.equal(minimumWindowUs(0.5), 2_000_000);
    // The default window (5 s) is checked as an explicit one: 0.001 qps sends once every 1000 s.
    assert.equal(refused({ qps: '0.001' }), 'the default --duration 5s is too short to measure a rate: at least 1000s (at 0.001 qps, one request interval); give a longer -t, or -n');
    assert.equal(refused({ qps: '0.001', duration: '1000s' }), 'accepted');
    assert.equal(refused({ qps: '0.001', requests: '1' }), 'accepted');
  });

  it('refuses a rate above the highest it schedules, in one line', () => {
    const problem = (qps: string): string => {
      try {
        loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, qps });
      } catch (e) {
        assert.ok(e instanceof BadInputError);
        return e.message;
      }
      return 'accepted';
    };
    assert.equal(problem(String(maxQps)), 'accepted');
    assert.match(problem('1e9'), /^--qps 1000000000 is above the highest rate meshbench schedules, 200000 requests per second/);
    assert.match(problem(String(maxQps + 1)), /above the highest rate/);
  });

  it('lets -n win over -t, as fortio\'s -n ("instead of duration")', () => {
    const o = loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, duration: '1s', requests: '5' });
    assert.equal(o.requests, 5);
    assert.equal(o.durationUs, undefined);
  });
});

describe('HTTP client framing', () => {
  it('builds a GET, a POST with Content-Length, and a Connection: close request', () => {
    const t = parseTarget('http://127.0.0.1:8080/p?q=1');
    assert.equal(buildHttpRequest(t, Buffer.alloc(0), [], true).toString(), 'GET /p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: meshbench\r\n\r\n');
    const post = buildHttpRequest(t, Buffer.from('abc'), [['X-Test', 'yes']], false).toString();
    assert.match(post, /^POST \/p\?q=1 HTTP\/1\.1\r\n/);
    assert.match(post, /\r\nX-Test: yes\r\n/);
    assert.match(post, /\r\nContent-Length: 3\r\n/);
    assert.match(post, /\r\nConnection: close\r\n\r\nabc$/);
  });

  /** Feeds the bytes one at a time (the harshest read boundaries), then the close if asked. */
  function parse(text: string, close = false, p = new HttpResponseParser()): { step: number; p: HttpResponseParser } {
    p.startResponse();
    const bytes = Buffer.from(text, 'latin1');
    for (let i = 0; i < bytes.length; i += 1) {
      const step = p.feed(bytes.subarray(i, i + 1));
      if (step !== needMore) return { step, p };
    }
    return { step: close ? p.end() : needMore, p };
  }

  it('skips 1xx interim responses and reports the final one (RFC 9110 §15.2)', () => {
    for (const interim of ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n']) {
      const { step, p } = parse(`${interim}HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok`);
      assert.equal(step, complete);
      assert.equal(p.status, 201);
      assert.equal(p.bodyBytes, 2);
    }
  });

  it('calls 101 an error kind of its own', () => {
    const { step, p } = parse('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n');
    assert.equal(step, failed);
    assert.equal(p.errorKind, 'upgrade-not-supported');
  });

  it('reads Connection as a token list', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n').p.keepAlive, false);
    assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: foo, keep-alive\r\nContent-Length: 0\r\n\r\n').p.keepAlive, true);
    assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').p.keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').p.keepAlive, true);
  });

  it('reads a body delimited by close to the close, and calls a cut-short body closed-early', () => {
    const { step, p } = parse('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nhello, world', true);
    assert.equal(step, complete);
    assert.equal(p.framing, 'close');
    assert.equal(p.bodyBytes, 12);
    assert.equal(p.keepAlive, false);
    const cut = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', true);
    assert.equal(cut.step, failed);
    assert.equal(cut.p.errorKind, 'closed-early');
  });

  it('flags malformed framing at the byte it goes wrong, not at the timeout', () => {
    for (const bad of ['HTTP/1.1 200 OK\r\nBad Header\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HTTX/1.1 200']) {
      const { step, p } = parse(bad);
      assert.equal(step, failed, bad);
      assert.equal(p.errorKind, 'bad-response');
    }
    // Bytes beyond the response in the same read (a second response nobody asked for); in a later read
    // the connection calls them unexpected-data, as nothing is in flight.
    const p = new HttpResponseParser();
    p.startResponse();
    assert.equal(p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\n')), failed);
    assert.equal(p.errorKind, 'bad-response');
  });

  it('reads chunked bodies with extensions and trailers', () => {
    const { step, p } = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n');
    assert.equal(step, complete);
    assert.equal(p.framing, 'chunked');
    assert.equal(p.bodyBytes, 11);
    assert.equal(p.keepAlive, true);
  });

  it('recognises a repeated head on the cached path and still catches a body that overruns', () => {
    const p = new HttpResponseParser();
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
    assert.equal(parse(response, false, p).step, complete);
    p.startResponse();
    assert.equal(p.feed(Buffer.from(response)), complete);
    assert.equal(p.headerBytes, response.length - 3);
    assert.equal(p.bytes, response.length);
    p.startResponse();
    assert.equal(p.feed(Buffer.from(`${response}x`)), failed);
  });
});
