import assert from 'node:assert/strict';
import { parseTarget, TargetSyntaxError } from '../../workloads/loadTarget';
import { buildHttpRequest, chunkedBodyLength } from '../../workloads/httpConnection';
import { loadOptionsFromFlags } from '../../harness/commands/loadCommand';
import { BadInputError } from '../../harness/errors';

const flags = {
  qps: '8', connections: '4', warmup: '0s', payloadSize: '0', header: [] as string[], keepalive: true, timeout: '5s', labels: '',
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

  it('rejects malformed URLs with a reason', () => {
    assert.throws(() => parseTarget('not a url'), TargetSyntaxError);
    assert.throws(() => parseTarget('ftp://h:1/'), /unsupported scheme "ftp"/);
    assert.throws(() => parseTarget('https://h/'), /TLS/);
    assert.throws(() => parseTarget('tcp://h'), /needs a port/);
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
    ];
    for (const [patch, re] of bad) {
      assert.throws(() => loadOptionsFromFlags('http://127.0.0.1:1/', { ...flags, ...patch } as typeof flags), (e: unknown) => e instanceof BadInputError && re.test(e.message), JSON.stringify(patch));
    }
    assert.throws(() => loadOptionsFromFlags('http//x', flags), BadInputError);
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

  it('finds the end of a chunked body, with trailers, and waits for more when incomplete', () => {
    const body = Buffer.from('5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n');
    assert.equal(chunkedBodyLength(body), body.length);
    assert.equal(chunkedBodyLength(body.subarray(0, body.length - 1)), -1);
    assert.equal(chunkedBodyLength(Buffer.from('zz\r\n')), -2);
    assert.equal(chunkedBodyLength(Buffer.from('0\r\n\r\n')), 5);
  });
});
