/*
 * Generated and mutated HTTP/1.x requests for the echo server's fuzz tests. Shapes come from public
 * request-smuggling and parser bug reports (PortSwigger's CL.TE/TE.CL/TE.TE variants, llhttp and
 * Node http advisories: obs-fold, bare LF, NUL bytes, CL lists, oversized chunk sizes).
 */

/** A seeded source of uniform [0,1) numbers (mulberry32, see syntheticRun.ts). */
export type Random = () => number;

const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** A valid choice most of the time, a hostile one with probability `bad`. */
const either = <T>(r: Random, bad: number, good: readonly T[], hostile: readonly T[]): T => pick(r, r() < bad ? hostile : good);

const goodMethods = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT'];
const badMethods = ['get', 'FOO', 'GET\0', 'PRI', 'G ET', '\x80'];
const goodTargets = ['/', '/', '/echo', '/?size=3&status=200', '/?size=3', '/?status=201', '/?delay=0ms', '/?close=true', '/a%zz?b', '/?delay=%zz', '/?x=%',
  '*', 'http://example.com/x', 'example.com:443', '/' + 'a'.repeat(300)];
const badTargets = ['/has space', '/\x7f', '/tab\there', '/nul\0', ''];
const goodVersions = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'];
const badVersions = ['HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.', 'HTTP/11', ''];
const lineEnds = ['\r\n', '\r\n', '\r\n', '\r\n', '\r\n', '\n', '\r', '\r\r\n'];

function chunkedBody(r: Random, body: string): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const n = Math.min(body.length - i, int(r, 1, 7));
    const sizeText = pick(r, [n.toString(16), n.toString(16).toUpperCase(), `${n.toString(16)};ext=1`, `${n.toString(16)} `, `0${n.toString(16)}`, 'zz', '-1', 'ffffffffffffffffff']);
    out += `${r() < 0.9 ? n.toString(16) : sizeText}\r\n${body.slice(i, i + n)}${r() < 0.9 ? '\r\n' : pick(r, ['\n', '', 'XX'])}`;
    i += n;
  }
  out += pick(r, ['0\r\n\r\n', '0\r\n\r\n', '0\r\nX-Trailer: yes\r\n\r\n', '0\r\nContent-Length: 5\r\n\r\n', '0;ext\r\n\r\n', '0\r\n', '00\r\n\r\n']);
  return out;
}

/** One request, mostly well formed, with headers drawn to hit every framing rule. */
export function generateRequest(r: Random): string {
  const eol = r() < 0.97 ? '\r\n' : pick(r, lineEnds);
  const method = either(r, 0.05, goodMethods, badMethods);
  const line = r() < 0.98 ? `${method} ${either(r, 0.05, goodTargets, badTargets)} ${either(r, 0.05, goodVersions, badVersions)}` : pick(r, ['', ' ', 'GET', 'GET /', '\0\0\0', 'GET  / HTTP/1.1', 'GET / HTTP/1.1 extra']);
  const headers: string[] = [];
  if (r() < 0.8) headers.push('Host: example');
  const body = 'x'.repeat(int(r, 0, 3) === 0 ? 0 : int(r, 1, 40));
  const framing = r();
  let wire = body;
  if (framing < 0.35) {
    if (body.length > 0 || r() < 0.3) headers.push(`Content-Length: ${body.length}`);
  } else if (framing < 0.55) {
    headers.push(pick(r, ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked', 'transfer-encoding: CHUNKED', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip',
      'Transfer-Encoding : chunked', 'Transfer-Encoding: xchunked', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding: identity', 'Transfer-Encoding:\r\n chunked']));
    wire = chunkedBody(r, body);
  } else if (framing < 0.62) {
    // Request smuggling shapes: both framings, or a Content-Length the body does not match.
    headers.push(pick(r, [`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked`, `Transfer-Encoding: chunked\r\nContent-Length: ${body.length + 3}`,
      `Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}`, `Content-Length: ${body.length}, ${body.length}`, `Content-Length: +${body.length}`,
      `Content-Length: -1`, 'Content-Length: 99999999999999999999999', `Content-Length: ${body.length} `, `Content-Length: 0x${body.length.toString(16)}`, 'Content-Length:',
      `Content-Length\0: ${body.length}`, `Content-Length: ${body.length}\r\n\tobs-fold`]));
    wire = r() < 0.5 ? chunkedBody(r, body) : body;
  } else wire = '';
  if (r() < 0.15) headers.push(pick(r, ['Connection: close', 'Connection: keep-alive', 'Connection: Keep-Alive, close', 'Connection: upgrade\r\nUpgrade: websocket', 'Connection: TE, close']));
  if (r() < 0.1) headers.push(pick(r, ['Expect: 100-continue', 'Expect: 100-CONTINUE', 'Expect: 200-ok']));
  if (r() < 0.08) headers.push(pick(r, ['X-Null: a\0b', 'X-Bad Name: 1', 'X-Ctl: \x01', ' Leading: space', 'X-Empty:', 'X-Folded: a\r\n  b', ':nohead', 'X-Latin: \xe9', `X-Long: ${'v'.repeat(int(r, 100, 3000))}`]));
  return `${line}${eol}${headers.map((h) => h + eol).join('')}${eol}${wire}`;
}

/** A generated request after 0–4 byte-level mutations (flip, insert a hostile byte, delete, duplicate, truncate). */
export function mutateRequest(r: Random, text: string): string {
  let s = text;
  const n = int(r, 0, 4);
  for (let k = 0; k < n && s.length > 0; k += 1) {
    const at = int(r, 0, s.length - 1);
    switch (int(r, 0, 4)) {
      case 0: s = s.slice(0, at) + String.fromCharCode(int(r, 0, 255)) + s.slice(at + 1); break;
      case 1: s = s.slice(0, at) + pick(r, ['\0', '\r', '\n', ' ', '\t', ':', '\x7f', '\r\n', ';', '0']) + s.slice(at); break;
      case 2: s = s.slice(0, at) + s.slice(at + int(r, 1, 4)); break;
      case 3: s = s.slice(0, at) + s.slice(at, at + int(r, 1, 12)) + s.slice(at); break;
      default: s = s.slice(0, at); break;
    }
  }
  return s;
}

/** 1–3 requests back to back (pipelined), each generated then possibly mutated. */
export function generateConnectionBytes(r: Random): Buffer {
  const count = r() < 0.7 ? 1 : int(r, 2, 3);
  let text = '';
  for (let i = 0; i < count; i += 1) {
    const req = generateRequest(r);
    text += r() < 0.25 ? mutateRequest(r, req) : req;
  }
  return Buffer.from(text, 'latin1');
}

/** Splits bytes at random read boundaries (1 byte up to the whole). */
export function randomSlices(r: Random, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < data.length) {
    const n = r() < 0.3 ? int(r, 1, 3) : int(r, 1, Math.max(1, data.length - i));
    out.push(data.subarray(i, i + n));
    i += n;
  }
  return out;
}
