import hpack from 'hpack.js';

/*
 * The pieces of HTTP/2 (RFC 9113) and HPACK (RFC 7541) the hand-written client (h2FastConnection.ts) needs:
 * frame headers, the client's connection preface, a request header block built once per run, and the
 * `:status` of a response header block.
 */

/** Frame types (RFC 9113 §6). */
export const frameType = { data: 0, headers: 1, priority: 2, rstStream: 3, settings: 4, pushPromise: 5, ping: 6, goaway: 7, windowUpdate: 8, continuation: 9 } as const;
/** Frame flags (RFC 9113 §6). */
export const flag = { endStream: 0x1, ack: 0x1, endHeaders: 0x4, padded: 0x8, priority: 0x20 } as const;
export const frameHeaderBytes = 9;

/** A frame header: 24-bit length, type, flags, 31-bit stream id. */
export function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  out[at] = (length >>> 16) & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

/** One whole frame. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, frameHeaderBytes);
  return out;
}

/** Largest flow-control window (RFC 9113 §6.9.1). */
export const maxWindow = 2 ** 31 - 1;

/**
 * The client's connection preface (RFC 9113 §3.4): the magic, SETTINGS (no server push; the largest stream
 * window, so a response never waits for a WINDOW_UPDATE) and a WINDOW_UPDATE raising the connection window to
 * the largest too, as h2load does with its -w/-W.
 */
export function clientPreface(): Buffer {
  const settings = Buffer.alloc(12);
  settings.writeUInt16BE(0x2, 0); // SETTINGS_ENABLE_PUSH
  settings.writeUInt32BE(0, 2);
  settings.writeUInt16BE(0x4, 6); // SETTINGS_INITIAL_WINDOW_SIZE
  settings.writeUInt32BE(maxWindow, 8);
  const increment = Buffer.alloc(4);
  increment.writeUInt32BE(maxWindow - 65_535, 0);
  return Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(frameType.settings, 0, 0, settings), frame(frameType.windowUpdate, 0, 0, increment)]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1), `first` holding the representation's high bits. */
function encodeInt(first: number, prefixBits: number, value: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

/** Static table indexes (RFC 7541 Appendix A) of the request pseudo-header names and common values. */
const staticName: Readonly<Record<string, number>> = { ':authority': 1, ':method': 2, ':path': 4, ':scheme': 6, 'user-agent': 58, authorization: 23, 'content-type': 31, 'content-length': 28 };
const staticPair: Readonly<Record<string, number>> = { ':method GET': 2, ':method POST': 3, ':path /': 4, ':scheme http': 6, ':scheme https': 7 };

/**
 * A request's header block, encoded once: fully indexed static pairs where the static table has them,
 * everything else "literal without indexing" (RFC 7541 §6.2.2) without Huffman, so the block never touches
 * the server's dynamic table and the same bytes serve every request of the run.
 */
export function encodeRequestBlock(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of headers) {
    const pair = staticPair[`${name} ${value}`];
    if (pair !== undefined) { bytes.push(...encodeInt(0x80, 7, pair)); continue; }
    const nameIndex = staticName[name];
    if (nameIndex !== undefined) bytes.push(...encodeInt(0x00, 4, nameIndex));
    else {
      const n = Buffer.from(name, 'latin1');
      bytes.push(0x00, ...encodeInt(0x00, 7, n.length), ...n);
    }
    const v = Buffer.from(value, 'latin1');
    bytes.push(...encodeInt(0x00, 7, v.length), ...v);
  }
  return Buffer.from(bytes);
}

/** `:status` values of the static table (RFC 7541 Appendix A, indexes 8–14). */
const staticStatus = [200, 204, 206, 304, 400, 404, 500];

/** Reads an HPACK integer at `at`; returns [value, next offset], or undefined past the end. */
function decodeInt(block: Buffer, at: number, prefixBits: number): [number, number] | undefined {
  if (at >= block.length) return undefined;
  const max = (1 << prefixBits) - 1;
  let value = (block[at] as number) & max;
  let i = at + 1;
  if (value < max) return [value, i];
  let shift = 0;
  for (;;) {
    if (i >= block.length || shift > 28) return undefined;
    const b = block[i] as number;
    i += 1;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i];
  }
}

/**
 * Whether a header block leaves the decoder's dynamic table as it was (RFC 7541 §6): only indexed fields and
 * literals without or never indexing, no incremental indexing, no table size update. Walks the
 * representations by their lengths without decoding strings. Undefined when the block is malformed.
 */
export function blockIsStateless(block: Buffer): boolean | undefined {
  let i = 0;
  while (i < block.length) {
    const b = block[i] as number;
    if ((b & 0x80) !== 0) {
      const r = decodeInt(block, i, 7);
      if (r === undefined) return undefined;
      i = r[1];
      continue;
    }
    if ((b & 0xc0) === 0x40 || (b & 0xe0) === 0x20) return false;
    const r = decodeInt(block, i, 4);
    if (r === undefined) return undefined;
    i = r[1];
    const strings = r[0] === 0 ? 2 : 1;
    for (let s = 0; s < strings; s += 1) {
      const len = decodeInt(block, i, 7);
      if (len === undefined) return undefined;
      i = len[1] + len[0];
      if (i > block.length) return undefined;
    }
  }
  return true;
}

/**
 * The `:status` of a stateless block whose first field is an indexed static status (what nginx, Envoy and
 * Go's servers send for 200/204/206/304/400/404/500), else undefined (the caller decodes the block in full).
 */
export function quickStatus(block: Buffer): number | undefined {
  const b = block[0];
  if (b === undefined || b < 0x88 || b > 0x8e) return undefined;
  return staticStatus[b - 0x88];
}

/** A full HPACK decoder (hpack.js: dynamic table, Huffman), for the blocks quickStatus cannot read. */
export class HpackDecoder {
  private readonly decompressor = hpack.decompressor.create({ table: { size: 4096 } });
  private failure: unknown;

  constructor() {
    this.decompressor.on('error', (err: unknown) => { this.failure = err; });
  }

  /** Every field of the block, in order; throws on a malformed block (a COMPRESSION_ERROR, RFC 9113 §4.3). */
  decode(block: Buffer): Array<{ name: string; value: string }> {
    const d = this.decompressor;
    this.failure = undefined;
    d.write(block);
    d.execute();
    const failure = this.failure;
    const out: Array<{ name: string; value: string }> = [];
    for (let h = d.read() as { name: string; value: string } | null; h !== null; h = d.read() as { name: string; value: string } | null) out.push(h);
    if (failure !== undefined) throw failure;
    return out;
  }
}
