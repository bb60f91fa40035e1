import assert from 'node:assert/strict';
import net from 'node:net';
import { startEchoChild, type EchoChild } from '../helpers/cli';
import { generateConnectionBytes } from '../helpers/httpRequestCorpus';
import { seededRandom } from '../helpers/syntheticRun';

/** A step of a hostile exchange: bytes to write, a pause in ms, or 'half-close' (shutdown our sending side). */
type Step = Buffer | string | number | 'half-close';

interface Outcome {
  reply: string;
  /** How the exchange ended: the server closed, or we gave up after `waitMs`. */
  ended: 'server-closed' | 'waited';
}

function hit(port: number, steps: readonly Step[], waitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let reply = '';
    let done = false;
    const finish = (ended: Outcome['ended']): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ reply, ended });
    };
    const timer = setTimeout(() => finish('waited'), waitMs);
    s.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
    s.on('end', () => finish('server-closed'));
    s.on('close', () => finish('server-closed'));
    s.on('error', () => finish('server-closed'));
    s.once('connect', async () => {
      for (const step of steps) {
        if (done || s.destroyed) return;
        if (typeof step === 'number') await new Promise((r) => setTimeout(r, step));
        else if (step === 'half-close') s.end();
        else s.write(step);
      }
    });
  });
}

async function assertAlive(echo: EchoChild, after: string): Promise<void> {
  assert.equal(echo.proc.exitCode, null, `echo exited after ${after}`);
  const r = await hit(echo.port, ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'], 5000);
  assert.match(r.reply, /^HTTP\/1\.1 200 OK\r\n/, `no plain 200 after ${after}: ${JSON.stringify(r.reply.slice(0, 80))}`);
}

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;

/** Hand-picked hostile requests: each names the reply it must get (or that the server closes). */
const corpus: { name: string; steps: Step[]; expect: RegExp | 'closed' }[] = [
  { name: 'malformed percent-escape in a control', steps: [get('/?delay=%zz')], expect: /^HTTP\/1\.1 400 [^]*BAD_CONTROL/ },
  { name: 'lone percent in a control', steps: [get('/?size=%')], expect: /^HTTP\/1\.1 400 / },
  { name: 'truncated UTF-8 escape in a control', steps: [get('/?status=%E0%A4%A')], expect: /^HTTP\/1\.1 400 / },
  { name: 'size over the limit', steps: [get('/?size=99999999999')], expect: /^HTTP\/1\.1 400 / },
  { name: '100 KB header', steps: [get('/', `X-Big: ${'a'.repeat(100_000)}\r\n`)], expect: /^HTTP\/1\.1 431 / },
  { name: '5,000 headers', steps: [get('/', 'X-A: 1\r\n'.repeat(5000))], expect: /^HTTP\/1\.1 431 / },
  { name: '20 KB URL', steps: [get(`/${'u'.repeat(20_000)}`)], expect: /^HTTP\/1\.1 431 / },
  { name: 'Content-Length not a number', steps: [get('/', 'Content-Length: abc\r\n')], expect: /^HTTP\/1\.1 400 / },
  { name: 'negative Content-Length', steps: [get('/', 'Content-Length: -1\r\n')], expect: /^HTTP\/1\.1 400 / },
  { name: 'Content-Length over 2^64', steps: [get('/', 'Content-Length: 99999999999999999999999\r\n')], expect: /^HTTP\/1\.1 400 / },
  { name: 'two different Content-Lengths', steps: [get('/', 'Content-Length: 1\r\nContent-Length: 2\r\n') + 'ab'], expect: /^HTTP\/1\.1 400 / },
  { name: 'Content-Length longer than the body, then EOF', steps: [get('/', 'Content-Length: 100\r\n') + 'short', 'half-close'], expect: /^HTTP\/1\.1 400 [^]*(EOF_IN_REQUEST|INVALID_EOF_STATE)/ },
  { name: 'CL.TE smuggling', steps: ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED'], expect: /^HTTP\/1\.1 400 / },
  { name: 'TE.CL smuggling', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'TE.TE obfuscated (space before colon)', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'TE with chunked not last', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'TE in obs-fold', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'chunk size not hex', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n'], expect: /^HTTP\/1\.1 400 [^]*INVALID_CHUNK_SIZE/ },
  { name: 'chunk size overflowing 64 bits', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nhi\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'chunk without its CRLF', steps: ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'NUL in the method', steps: ['GE\0T / HTTP/1.1\r\nHost: a\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'NUL in a header name', steps: [get('/', 'X-\0A: 1\r\n')], expect: /^HTTP\/1\.1 400 / },
  { name: 'NUL in a header value', steps: [get('/', 'X-A: a\0b\r\n')], expect: /^HTTP\/1\.1 400 / },
  { name: 'bare LF line endings', steps: ['GET / HTTP/1.1\nHost: a\n\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'HTTP/2 preface', steps: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], expect: /^HTTP\/1\.1 400 / },
  { name: 'unknown expectation', steps: [get('/', 'Expect: 200-ok\r\n')], expect: /^HTTP\/1\.1 417 / },
  { name: 'websocket upgrade', steps: [get('/', 'Connection: Upgrade\r\nUpgrade: websocket\r\n') + '\x81\x85garbage'], expect: /^HTTP\/1\.1 200 [^]*Connection: close/ },
  { name: 'CONNECT then tunnel bytes', steps: ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n\x16\x03\x01\x00'], expect: /^HTTP\/1\.1 200 [^]*Connection: close/ },
  { name: 'pipelined garbage after a good request', steps: [get('/?status=201') + 'garbage\r\n\r\n'], expect: /^HTTP\/1\.1 201 [^]*HTTP\/1\.1 400 / },
  { name: 'request after Connection: close', steps: [get('/', 'Connection: close\r\n') + get('/')], expect: /^HTTP\/1\.1 200 [^]*Connection: close[^]*$/ },
  { name: 'raw TLS ClientHello', steps: [Buffer.from('16030100c4010000c00303', 'hex')], expect: /^HTTP\/1\.1 400 / },
  { name: 'slowloris: a head trickled byte by byte, never finished', steps: [...'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '.split(''), 300, 'a', 300, 'b', 300, 'c'], expect: /^HTTP\/1\.1 408 / },
  { name: 'a delayed reply whose client goes away', steps: [get('/?delay=200ms'), 'half-close', 20], expect: 'closed' },
  { name: 'RST in the middle of a body', steps: [get('/', 'Content-Length: 100000\r\n') + 'x'.repeat(1000)], expect: 'closed' },
  { name: '2,000 pipelined requests without reading a reply', steps: [get('/?size=1024').repeat(2000)], expect: 'closed' },
];

describe('meshbench echo under hostile requests', () => {
  let echo: EchoChild;
  before(async () => { echo = await startEchoChild(['--headers-timeout', '600ms']); });
  after(async () => { await echo.stop(); });

  for (const c of corpus) {
    it(`survives ${c.name}`, async () => {
      const r = await hit(echo.port, c.steps, c.expect === 'closed' ? 300 : 3000);
      if (c.expect !== 'closed') {
        assert.match(r.reply, c.expect, JSON.stringify(r.reply.slice(0, 200)));
        assert.equal(r.ended, 'server-closed', 'the server keeps a connection it rejected a request on');
      }
      await assertAlive(echo, c.name);
    });
  }

  it('survives 300 generated and mutated requests and 50 blobs of random bytes (seed 11), closing each after the last reply', async function () {
    this.timeout(60_000);
    const rand = seededRandom(11);
    for (let i = 0; i < 350; i += 1) {
      const data = i < 300 ? generateConnectionBytes(rand) : Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256)));
      // We shut down our side after sending: the server must answer what it framed and close, never hang.
      const r = await hit(echo.port, [data, 'half-close'], 3000);
      assert.equal(r.ended, 'server-closed', `case ${i} hung: ${JSON.stringify(data.toString('latin1').slice(0, 200))}`);
      if (i % 10 === 0) await assertAlive(echo, `case ${i}`);
    }
    await assertAlive(echo, 'the random cases');
  });
});
