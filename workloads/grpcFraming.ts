/**
 * gRPC length-prefixed messages (gRPC over HTTP/2, grpc/doc/PROTOCOL-HTTP2.md "Length-Prefixed-Message"):
 * a 1-byte compressed flag, a 4-byte big-endian length, then the message. Hand-written for the load
 * client's hot path (see grpcConnection.ts for what it saves over @grpc/grpc-js).
 */

/** Bytes before each message: compressed flag and length. */
export const grpcPrefixBytes = 5;

/** One uncompressed message with its prefix, built once per run. */
export function frameGrpcMessage(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(grpcPrefixBytes + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, grpcPrefixBytes);
  return out;
}

/**
 * Counts the length-prefixed messages of a response body as its DATA chunks arrive, without copying them
 * (the load client does not read the payload). `feed` returns false on framing it cannot accept: a
 * compressed message (none was asked for: no grpc-accept-encoding is sent) or a length over `maxBytes`.
 */
export class GrpcMessageCounter {
  /** Whole messages seen. */
  messages = 0;
  /** Bytes still owed to the current message's body (after its prefix). */
  private remaining = 0;
  /** Prefix bytes of the next message seen so far (a prefix may straddle two DATA frames). */
  private prefixSeen = 0;
  private readonly prefix = Buffer.alloc(grpcPrefixBytes);

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  reset(): void {
    this.messages = 0;
    this.remaining = 0;
    this.prefixSeen = 0;
  }

  /** True when the body ended on a message boundary. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.prefixSeen === 0;
  }

  feed(chunk: Buffer): boolean {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.messages += 1;
        continue;
      }
      this.prefix[this.prefixSeen] = chunk[i] as number;
      this.prefixSeen += 1;
      i += 1;
      if (this.prefixSeen < grpcPrefixBytes) continue;
      this.prefixSeen = 0;
      if (this.prefix[0] !== 0) return false;
      const length = this.prefix.readUInt32BE(1);
      if (length > this.maxBytes) return false;
      if (length === 0) this.messages += 1;
      else this.remaining = length;
    }
    return true;
  }
}
