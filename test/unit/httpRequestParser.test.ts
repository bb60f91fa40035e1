import assert from 'node:assert/strict';
import { RequestParser, type RequestParseError } from '../../workloads/httpRequestParser';
import { generateConnectionBytes, randomSlices } from '../helpers/httpRequestCorpus';
import { seededRandom } from '../helpers/syntheticRun';

interface Framed {
  messages: { method: string; target: string; versionMinor: number; keepAlive: boolean; upgrade: boolean; bodyBytes: number; complete: boolean }[];
  error: string | undefined;
}

// llhttp as Node's own http server drives it: one execute over the whole input, then finish at EOF.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { HTTPParser, methods } = require('_http_common') as { HTTPParser: any; methods: string[] };

function referenceFrame(data: Buffer, maxHeaderBytes: number): Framed {
  const out: Framed = { messages: [], error: undefined };
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {}, maxHeaderBytes, 0);
  let url = '';
  let upgraded = false;
  p[HTTPParser.kOnMessageBegin] = () => {};
  p[HTTPParser.kOnHeaders] = (_h: string[], u: string) => { if (out.messages.length === 0 || out.messages[out.messages.length - 1]!.complete) url += u; };
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, minor: number, _h: string[], method: number, u: string | undefined, _s: unknown, _m: unknown, upgrade: boolean, keepAlive: boolean) => {
    out.messages.push({ method: methods[method]!, target: url + (u ?? ''), versionMinor: minor, keepAlive, upgrade, bodyBytes: 0, complete: false });
    url = '';
    if (upgrade) upgraded = true;
    return upgrade ? 2 : 0; // the echo server's policy: an upgrade request has no body and ends HTTP on the connection
  };
  p[HTTPParser.kOnBody] = (b: Buffer) => { out.messages[out.messages.length - 1]!.bodyBytes += b.length; };
  p[HTTPParser.kOnMessageComplete] = () => { out.messages[out.messages.length - 1]!.complete = true; };
  p[HTTPParser.kOnExecute] = () => {};
  const r = p.execute(data);
  if (typeof r !== 'number') out.error = r.code as string;
  else if (!upgraded) {
    const f = p.finish();
    if (f !== undefined && typeof f !== 'number') out.error = f.code as string;
    else if (out.messages.length > 0 && !out.messages[out.messages.length - 1]!.complete) out.error = 'EOF_IN_REQUEST';
  }
  p.close();
  // A message cut short by an error is not framed: compare only what completed.
  return { messages: out.messages.filter((m) => m.complete), error: out.error };
}

function candidateFrame(slices: Buffer[], maxHeaderBytes: number): Framed {
  const out: Framed = { messages: [], error: undefined };
  const parser = new RequestParser({
    onHead: (h) => { out.messages.push({ method: h.method, target: h.target, versionMinor: h.versionMinor, keepAlive: h.keepAlive, upgrade: h.upgrade, bodyBytes: 0, complete: false }); },
    onBody: (b) => { out.messages[out.messages.length - 1]!.bodyBytes += b.length; },
    onComplete: () => { out.messages[out.messages.length - 1]!.complete = true; },
    onError: (e: RequestParseError) => { out.error = e.code; },
  }, { maxHeaderBytes, maxBodyBytes: 1 << 20 });
  for (const s of slices) parser.push(s);
  parser.end();
  parser.close();
  return { messages: out.messages.filter((m) => m.complete), error: out.error };
}

describe('request parser: differential fuzzing against llhttp', () => {
  it('agrees with llhttp on method, target, framing and body length of 10,000 generated requests at random read boundaries', () => {
    const rand = seededRandom(20261129);
    let rejected = 0;
    let framed = 0;
    const codes = new Map<string, number>();
    const started = Date.now();
    for (let i = 0; i < 10_000; i += 1) {
      const data = generateConnectionBytes(rand);
      const maxHeaderBytes = rand() < 0.1 ? 256 : 16 * 1024;
      const want = referenceFrame(data, maxHeaderBytes);
      const got = candidateFrame(randomSlices(rand, data), maxHeaderBytes);
      assert.deepEqual(got, want, `case ${i}: ${JSON.stringify(data.toString('latin1'))}`);
      if (want.error !== undefined) { rejected += 1; codes.set(want.error, (codes.get(want.error) ?? 0) + 1); }
      framed += want.messages.length;
    }
    // The corpus must exercise both sides: plenty accepted, plenty rejected.
    assert.ok(rejected > 2000 && rejected < 8000, `rejected ${rejected}: ${JSON.stringify([...codes])}`);
    assert.ok(codes.size >= 10, `only ${codes.size} kinds of rejection: ${JSON.stringify([...codes])}`);
    assert.ok(framed > 5000, `framed ${framed}; rejected ${rejected}: ${JSON.stringify([...codes])}`);
    assert.ok(Date.now() - started < 30_000);
  });

  it('reports chunked bodies with trailers as one message with the de-chunked length', () => {
    const got = candidateFrame([Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n')], 16384);
    assert.deepEqual(got.messages.map((m) => [m.method, m.bodyBytes]), [['POST', 11], ['GET', 0]]);
    assert.equal(got.error, undefined);
  });

  it('rejects Content-Length with Transfer-Encoding (RFC 9112 §6.1: a smuggling shape)', () => {
    const got = candidateFrame([Buffer.from('POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')], 16384);
    assert.deepEqual(got.messages, []);
    assert.match(got.error ?? '', /^HPE_/);
  });

  it('keeps a head split over many reads and more than 32 headers whole', () => {
    const headers = Array.from({ length: 40 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
    const data = Buffer.from(`GET /?size=1 HTTP/1.0\r\nConnection: keep-alive\r\n${headers}\r\n`);
    const heads: string[][] = [];
    const parser = new RequestParser({ onHead: (h) => heads.push([...h.headers]), onBody: () => {}, onComplete: () => {}, onError: () => {} });
    for (let i = 0; i < data.length; i += 1) parser.push(data.subarray(i, i + 1));
    parser.close();
    assert.equal(heads.length, 1);
    assert.equal(heads[0]!.length, 2 * 41);
    assert.equal(heads[0]![heads[0]!.length - 1], '39');
  });
});
