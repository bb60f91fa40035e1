import type { ClientConnection, ConnectionEvents } from './clientConnection';
import { GrpcConnection, GrpcFastStream, buildGrpcRequest } from './grpcConnection';
import { healthCheckMethod, pingMethod, streamPingMethod } from './grpcProto';
import { buildH2Request, H2Session, H2StreamConnection, headerListBytes } from './h2Connection';
import { H2FastSession, H2FastStream, type FastRequest } from './h2FastConnection';
import { encodeRequestBlock } from './h2Framing';
import { buildHttpRequest, HttpConnection } from './httpConnection';
import type { LoadOptions } from './loadOptions';
import { TcpConnection } from './tcpConnection';
import type { Bytes } from './units';

/** How the runner makes its slots for one protocol. */
export interface ConnectionFactory {
  /** Slots the runner schedules on: connections × streams (streams only for HTTP/2 and gRPC). */
  readonly slots: number;
  /** Bytes one request puts on the wire (HTTP/2: header list size and body, see headerListBytes). */
  readonly requestBytes: Bytes;
  /** Slot `id` (0 ≤ id < slots); HTTP/2 slots id … id + streams − 1 share connection ⌊id ÷ streams⌋, as fortio's gRPC runner. */
  make(id: number, events: ConnectionEvents): ClientConnection;
}

/** The default gRPC call when the options name none: fortio's ping (`fortio load -grpc -ping`). */
export const defaultGrpcCall = { method: pingMethod, streamMessages: 1, pingDelayNs: 0, healthService: '' } as const;

/**
 * Picks the client for the target's protocol: HTTP/1.1 and TCP over `net` (one slot per connection),
 * HTTP/2 and gRPC over node:http2 (`streams` slots per connection). The request is built once here.
 */
export function connectionFactory(options: LoadOptions): ConnectionFactory {
  const target = options.target;
  const payload = Buffer.alloc(options.payloadBytes, 0x61);
  const streams = options.streams ?? 1;
  if (target.protocol === 'http') {
    const request = buildHttpRequest(target, payload, options.headers, options.keepAlive);
    return { slots: options.connections, requestBytes: request.length, make: (id, events) => new HttpConnection(id, target, request, options.keepAlive, events) };
  }
  if (target.protocol === 'tcp') {
    const message = payload.length > 0 ? payload : Buffer.from('meshbench\n');
    return { slots: options.connections, requestBytes: message.length, make: (id, events) => new TcpConnection(id, target, message.length, message, options.keepAlive, events) };
  }
  const slots = options.connections * streams;
  // The hand-written HTTP/2 client (h2FastConnection.ts) unless bodies outgrow one DATA frame (16 KiB, the
  // smallest SETTINGS_MAX_FRAME_SIZE) or MESHBENCH_H2_CLIENT=node asks for node:http2 (for comparison).
  const fastSessions = new Map<number, H2FastSession>();
  const fastSession = (id: number, req: FastRequest, events: ConnectionEvents): H2FastSession => {
    const c = Math.floor(id / streams);
    let s = fastSessions.get(c);
    if (s === undefined) {
      s = new H2FastSession(target, req, events);
      fastSessions.set(c, s);
    }
    return s;
  };
  const sessions = new Map<number, H2Session>();
  const sessionFor = (id: number, events: ConnectionEvents): H2Session => {
    const c = Math.floor(id / streams);
    let s = sessions.get(c);
    if (s === undefined) {
      s = new H2Session(target, events);
      sessions.set(c, s);
    }
    return s;
  };
  const fastAllowed = process.env.MESHBENCH_H2_CLIENT !== 'node';
  if (target.protocol === 'grpc') {
    const call = options.grpc ?? defaultGrpcCall;
    const request = buildGrpcRequest(target, call, options.payloadBytes, options.headers);
    const requestBytes = headerListBytes(request.headers) + request.body.length;
    const expected = call.method === streamPingMethod ? call.streamMessages : 1;
    if (fastAllowed && request.body.length <= 16_384) {
      const req: FastRequest = { block: encodeRequestBlock(headerPairs(request.headers)), body: request.body, grpc: true, keepBody: call.method === healthCheckMethod };
      return { slots, requestBytes, make: (id, events) => new GrpcFastStream(id, fastSession(id, req, events), expected, events) };
    }
    return { slots, requestBytes, make: (id, events) => new GrpcConnection(id, sessionFor(id, events), request, call, events) };
  }
  const request = buildH2Request(target, payload, options.headers);
  if (fastAllowed && payload.length <= 16_384) {
    const req: FastRequest = { block: encodeRequestBlock(headerPairs(request.headers)), body: payload, grpc: false, keepBody: false };
    return {
      slots, requestBytes: req.block.length + 9 + (payload.length > 0 ? payload.length + 9 : 0),
      make: (id, events) => new H2FastStream(id, fastSession(id, req, events), events),
    };
  }
  return {
    slots, requestBytes: headerListBytes(request.headers) + request.body.length,
    make: (id, events) => new H2StreamConnection(id, sessionFor(id, events), request, events),
  };
}

/** A node:http2 headers object as ordered pairs (pseudo-headers first, as built). */
function headerPairs(headers: Record<string, unknown>): Array<readonly [string, string]> {
  return Object.entries(headers).map(([n, v]) => [n, String(v)] as const);
}
