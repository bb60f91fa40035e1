import { seededRandom } from '../../harness/results/stats/seededRandom';
import assert from 'node:assert/strict';
import { complete, failed, HttpResponseParser, llhttpCallbacks, needMore, newLlhttpResponseParser } from '../../workloads/httpResponseParser';

/*
 * Differential fuzzing of the load client's response parser against plain llhttp (the parser of Node's
 * http module): generated and mutated responses, fed to each at different random read boundaries, must
 * give the same final status, keep-alive, body length and close-delimitation, or be rejected by both.
 * The client's parser keeps one llhttp instance per connection and skips repeated heads by memcmp, so the
 * cases run back to back on one parser (as on a keep-alive connection) and every response is also sent
 * twice, so the second copy takes the cached path.
 */

type Outcome = { ok: false } | { ok: true; status: number; keepAlive: boolean; bodyBytes: number; closeDelimited: boolean };

/** mulberry32, seeded: the same cases every run. */
const prng = seededRandom;

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

/** Cuts `n` bytes into 1..4 pieces at random points. */
function cuts(rand: () => number, n: number): number[] {
  const points = new Set<number>();
  const k = Math.floor(rand() * 4);
  for (let i = 0; i < k && n > 1; i += 1) points.add(1 + Math.floor(rand() * (n - 1)));
  return [...points].sort((a, b) => a - b);
}

function pieces(bytes: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out.filter((b) => b.length > 0);
}

const statuses = ['200', '201', '204', '206', '301', '304', '400', '404', '500', '503', '599', '100', '101', '103', '199', '600', '99', '2000', 'abc', ''];
const reasons = ['OK', '', 'Some Reason', 'Not\tFound', 'Ünïcode'];
const connectionValues = ['close', 'keep-alive', 'keep-alive, close', 'Keep-Alive', 'upgrade', 'foo, close', 'close , keep-alive', 'KEEP-ALIVE,foo'];
const teValues = ['chunked', 'Chunked', 'gzip, chunked', 'chunked, gzip', 'gzip', 'identity', 'chunked;q=1', ' chunked '];

/** A plausible response, with the framing headers drawn at random (several of them wrong on purpose). */
function generate(rand: () => number): Buffer {
  const parts: string[] = [];
  if (rand() < 0.15) parts.push(`HTTP/1.1 ${pick(rand, ['100 Continue', '103 Early Hints', '102 Processing'])}\r\n${rand() < 0.5 ? 'Link: </a.css>\r\n' : ''}\r\n`);
  const version = pick(rand, ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'http/1.1']);
  const status = rand() < 0.6 ? '200' : pick(rand, statuses);
  const body = 'x'.repeat(Math.floor(rand() * 40));
  const headers: string[] = [];
  let framing = pick(rand, ['length', 'length', 'chunked', 'close', 'both']);
  if (rand() < 0.3) headers.push(`Connection: ${pick(rand, connectionValues)}`);
  if (rand() < 0.3) headers.push(`Date: Sun, 29 Nov 2026 11:${String(Math.floor(rand() * 60)).padStart(2, '0')}:00 GMT`);
  if (rand() < 0.2) headers.push(pick(rand, ['X-Odd:no-space', 'X-Empty:', 'X-Tab:\tvalue', 'Bad Name: v', 'X-Fold: a\r\n b', ': novalue', 'X-Ctl: a\x01b', 'X-Dup: 1']));
  let bodyText = body;
  if (framing === 'length' || framing === 'both') {
    const cl = rand() < 0.85 ? String(body.length) : pick(rand, ['-1', 'x', `${body.length}, ${body.length}`, `${body.length},${body.length + 1}`, ' 5', '99999999999999999999', '+3', '0x10']);
    headers.push(`${pick(rand, ['Content-Length', 'content-length', 'CONTENT-LENGTH'])}: ${cl}`);
    if (rand() < 0.05) headers.push(`Content-Length: ${body.length + (rand() < 0.5 ? 0 : 1)}`);
  }
  if (framing === 'chunked' || framing === 'both') {
    headers.push(`Transfer-Encoding: ${rand() < 0.7 ? 'chunked' : pick(rand, teValues)}`);
    const chunks: string[] = [];
    let rest = body;
    while (rest.length > 0) {
      const n = 1 + Math.floor(rand() * rest.length);
      const ext = rand() < 0.1 ? pick(rand, [';a=b', ';a', '; a=b', ';a="q"']) : '';
      chunks.push(`${n.toString(16)}${ext}\r\n${rest.slice(0, n)}\r\n`);
      rest = rest.slice(n);
    }
    chunks.push(`0\r\n${rand() < 0.2 ? 'X-Trailer: t\r\n' : ''}\r\n`);
    bodyText = chunks.join('');
  }
  if (framing === 'close') framing = 'close';
  parts.push(`${version} ${status}${rand() < 0.9 ? ` ${pick(rand, reasons)}` : ''}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${bodyText}`);
  if (rand() < 0.05) parts.push(pick(rand, ['\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'garbage']));
  return Buffer.from(parts.join(''), 'latin1');
}

const interesting = [0x0d, 0x0a, 0x20, 0x3a, 0x30, 0x39, 0x61, 0x09, 0x00, 0x7f, 0xff, 0x2c, 0x3b, 0x48];

/** One to three byte-level mutations: flip, insert, delete, truncate, duplicate a span. */
function mutate(rand: () => number, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n && b.length > 0; i += 1) {
    const at = Math.floor(rand() * b.length);
    switch (Math.floor(rand() * 5)) {
      case 0: b[at] = pick(rand, interesting); break;
      case 1: b = Buffer.concat([b.subarray(0, at), Buffer.from([pick(rand, interesting)]), b.subarray(at)]); break;
      case 2: b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]); break;
      case 3: b = b.subarray(0, at); break;
      default: {
        const len = Math.floor(rand() * 8);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
      }
    }
  }
  return b;
}

/** Plain llhttp, fresh per response: the first final (non-1xx) response, or a rejection. */
function reference(bytes: Buffer, at: number[]): Outcome {
  const p = newLlhttpResponseParser();
  let final = false;
  let done = false;
  let bad = false;
  let status = 0;
  let keepAlive = false;
  let bodyBytes = 0;
  p[llhttpCallbacks.onMessageBegin] = () => { if (done) bad = true; };
  p[llhttpCallbacks.onHeadersComplete] = (_a: number, _b: number, _h: string[], _m: unknown, _u: unknown, st: number, _s: string, _up: boolean, ka: boolean) => {
    if (done) return 0;
    if (st === 101) bad = true;
    else if (st >= 200) {
      final = true;
      status = st;
      keepAlive = ka;
    }
    return 0;
  };
  p[llhttpCallbacks.onBody] = (b: Buffer) => { if (final && !done) bodyBytes += b.length; };
  p[llhttpCallbacks.onMessageComplete] = () => { if (final) done = true; };
  for (const piece of pieces(bytes, at)) {
    const r = p.execute(piece);
    if (typeof r !== 'number' || bad) return { ok: false };
  }
  let closeDelimited = false;
  if (!done) {
    const r = p.finish();
    if (r instanceof Error || bad || !done) return { ok: false };
    closeDelimited = true;
  }
  return { ok: true, status, keepAlive, bodyBytes, closeDelimited };
}

/** One receive buffer reused by every read, as StreamConnection's: scribbled over after each feed. */
const receiveBuffer = Buffer.alloc(64 * 1024);

/**
 * The client's parser, as a connection drives it: each read lands at the start of the shared receive buffer
 * and is fed in place (feed(buf, length)); the buffer is overwritten before the next read, so a parser that
 * kept a reference to it instead of a copy would read garbage. end() on close; keep feeding what follows.
 */
function subject(p: HttpResponseParser, bytes: Buffer, at: number[]): Outcome {
  p.startResponse();
  let step: number = needMore;
  for (const piece of pieces(bytes, at)) {
    piece.copy(receiveBuffer, 0);
    const s = p.feed(receiveBuffer, piece.length);
    receiveBuffer.fill(0x7e, 0, piece.length);
    if (s === failed) return { ok: false };
    if (step !== complete) step = s;
  }
  if (step === needMore) {
    if (p.end() !== complete) return { ok: false };
  }
  return { ok: true, status: p.status, keepAlive: p.keepAlive, bodyBytes: p.bodyBytes, closeDelimited: p.framing === 'close' };
}

describe('HTTP response parser: differential fuzzing against llhttp (fixed seed)', function () {
  this.timeout(60_000);
  it('agrees with llhttp on status, keep-alive, body length and close-delimitation, or both reject, over ≥ 10,000 responses', () => {
    const rand = prng(0x6d657368);
    const p = new HttpResponseParser();
    let cases = 0;
    let accepted = 0;
    let connectionOpen = true;
    const run = (bytes: Buffer, headInOneRead = false): void => {
      const expected = reference(bytes, cuts(rand, bytes.length));
      if (!connectionOpen) p.resetConnection();
      // Most reads carry a whole head in practice; then a repeated head can take the cached path.
      const headEnd = bytes.indexOf('\r\n\r\n') + 4;
      const at = cuts(rand, bytes.length).filter((c) => !headInOneRead || c >= headEnd);
      let actual: Outcome;
      try {
        actual = subject(p, bytes, at);
      } catch (err) {
        assert.fail(`the parser threw on ${JSON.stringify(bytes.toString('latin1'))}: ${String(err)}`);
      }
      assert.deepEqual(actual, expected, JSON.stringify(bytes.toString('latin1')));
      cases += 1;
      if (expected.ok) accepted += 1;
      // Like the connection: anything but a whole keep-alive response ends the socket and its parser state.
      connectionOpen = actual.ok && actual.keepAlive;
    };
    for (let i = 0; i < 3400; i += 1) {
      const base = generate(rand);
      run(base);
      // The same bytes again: on a kept-alive connection with a Content-Length head, the cached path.
      run(base, true);
      run(mutate(rand, base));
    }
    assert.ok(cases >= 10_000, `${cases} cases`);
    assert.ok(accepted > cases * 0.2 && accepted < cases * 0.9, `${accepted} of ${cases} accepted: the generator must reach both sides`);
    assert.ok(p.cachedResponses > 200, `cached path taken ${p.cachedResponses} times`);
  });
});
