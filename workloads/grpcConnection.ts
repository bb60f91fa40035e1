import type http2 from 'node:http2';
import type { ConnectionEvents } from './clientConnection';
import { frameGrpcMessage, GrpcMessageCounter } from './grpcFraming';
import { decodeHealthStatus, encodeHealthRequest, encodePing, healthCheckMethod, streamPingMethod } from './grpcProto';
import { addUserHeaders, H2StreamConnection, type H2Request, type H2Session } from './h2Connection';
import { H2FastStream, type H2FastSession, type InFlight } from './h2FastConnection';
import type { GrpcMessageCounter as Counter } from './grpcFraming';
import type { LoadTarget } from './loadTarget';

/*
 * gRPC framing written by hand (the 5-byte length prefix, grpc/doc/PROTOCOL-HTTP2.md) instead of a
 * @grpc/grpc-js client, because it is the load client's hot path: grpc-js spends its time in its interceptor
 * chain, per-call Metadata objects, protobuf decoding of every reply and a callback per call, none of which a
 * load generator needs. Calls go over the hand-written HTTP/2 client (GrpcFastStream, h2FastConnection.ts),
 * or over node:http2 (GrpcConnection) for messages over 16 KiB. Measured under the machine lock against the
 * same grpc-js echo on CPU 1, client on CPU 0, 2 connections × 8 streams, max mode, 3 s, 3 interleaved runs
 * (medians): this framing on the hand-written HTTP/2 client 10,560 calls/s, the same framing over node:http2
 * (MESHBENCH_H2_CLIENT=node) 7,739, a plain grpc-js client loop (ci/bench/grpcJsLoop.ts) 4,419: 2.4× grpc-js.
 */

/** The call the load client makes, from the URL path and the gRPC flags (fortio's -ping, -healthservice, -grpc-ping-delay). */
export interface GrpcCall {
  /** `/package.Service/Method`: fortio's Ping (default), the standard health Check, or meshbench's streaming Ping. */
  readonly method: string;
  /** Replies a server-streaming call expects (meshbench.PingStream/Ping); 1 for unary. */
  readonly streamMessages: number;
  /** fortio's -grpc-ping-delay: PingMessage.delayNanos, the server sleeps this long (ns). */
  readonly pingDelayNs: number;
  /** fortio's -healthservice: the service a health Check asks about. */
  readonly healthService: string;
}

/**
 * HTTP status of a response without grpc-status → gRPC code, as gRPC clients map it
 * (grpc/doc/http-grpc-status-mapping.md): a proxy's 503 reads UNAVAILABLE, a 404 UNIMPLEMENTED.
 */
export function grpcCodeForHttpStatus(status: number): number {
  switch (status) {
    case 400: return 13; // INTERNAL
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 12; // UNIMPLEMENTED
    case 429: case 502: case 503: case 504: return 14; // UNAVAILABLE
    default: return 2; // UNKNOWN
  }
}

/**
 * The request every call of a run sends: headers (gRPC over HTTP/2: POST, content-type application/grpc,
 * te: trailers; user headers as metadata, lower-cased) and the framed message: a PingMessage carrying
 * `--payload-size` bytes of payload (fortio's -payload-size) and the delay, or a HealthCheckRequest.
 */
export function buildGrpcRequest(target: LoadTarget, call: GrpcCall, payloadBytes: number, metadata: ReadonlyArray<readonly [string, string]>): H2Request {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':scheme': target.tls ? 'https' : 'http',
    ':path': call.method,
    ':authority': target.authority,
    'content-type': 'application/grpc',
    te: 'trailers',
    'user-agent': 'meshbench-grpc',
  };
  if (call.method === streamPingMethod && call.streamMessages !== 1) headers.messages = String(call.streamMessages);
  addUserHeaders(headers, metadata);
  const message = call.method === healthCheckMethod
    ? encodeHealthRequest(call.healthService)
    : encodePing({ seq: 0, ts: 0, payload: 'x'.repeat(payloadBytes), delayNanos: call.pingDelayNs });
  return { headers, body: frameGrpcMessage(message) };
}

/**
 * One gRPC call slot over a shared HTTP/2 connection. A call completes with its grpc-status (from the
 * trailers, or from a trailers-only response, else mapped from the HTTP status), which the runner counts
 * like an HTTP status: OK (0) is success, any other code is a failed call in the error histogram, counted
 * by name (fortio's RetCodes). Replies are counted, not decoded (except a health Check's status), and must
 * frame: a unary call gets exactly one message, a streaming one the number asked for, else `bad-response`.
 */
export class GrpcConnection extends H2StreamConnection {
  private readonly counter = new GrpcMessageCounter();
  private grpcStatus: number | undefined;
  private contentType: string | undefined;
  private healthBody: Buffer[] | undefined;
  private readonly expectedMessages: number;
  private readonly health: boolean;

  constructor(id: number, session: H2Session, request: H2Request, call: GrpcCall, events: ConnectionEvents) {
    super(id, session, request, events);
    this.health = call.method === healthCheckMethod;
    this.expectedMessages = call.method === streamPingMethod ? call.streamMessages : 1;
  }

  protected override resetResponse(): void {
    this.counter.reset();
    this.grpcStatus = undefined;
    this.contentType = undefined;
    this.healthBody = this.health ? [] : undefined;
  }

  protected override onHeaders(headers: http2.IncomingHttpHeaders): void {
    const s = headers['grpc-status'];
    if (s !== undefined) this.grpcStatus = Number(s);
    this.contentType = headers['content-type'];
  }

  protected override onData(chunk: Buffer): boolean {
    this.healthBody?.push(chunk);
    return this.counter.feed(chunk);
  }

  protected override onTrailers(headers: http2.IncomingHttpHeaders): void {
    const s = headers['grpc-status'];
    if (s !== undefined) this.grpcStatus = Number(s);
  }

  protected override finish(): void {
    const o = grpcOutcome(this.status, this.grpcStatus, this.counter, this.expectedMessages, this.healthBody, this.contentType);
    if (typeof o === 'string') this.fail(o);
    else if (typeof o === 'number') this.complete(o, this.bodyBytes + this.headBytes, this.headBytes);
    else this.complete(0, this.bodyBytes + this.headBytes, this.headBytes, o.answer);
  }
}

/**
 * An answer that came back whole but is not a success although no gRPC status says so: a health answer
 * other than SERVING (`health:NOT_SERVING`), or an HTTP 200 that is not a gRPC response at all
 * (`not-grpc:<content-type>`: an HTTP/2 server that is no gRPC server). Counted as answered, under this kind.
 */
export interface GrpcAnswerKind {
  readonly answer: string;
}

/**
 * The answer kind of an HTTP 200 without grpc-status whose content-type is not gRPC's (grpc/doc/PROTOCOL-HTTP2.md:
 * `application/grpc[+proto…]`), as grpc-go refuses it ("transport: received unexpected content-type"); undefined
 * when the content-type is gRPC's, which leaves a reply merely missing its status (`bad-response`).
 */
export function notGrpcKind(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType === '') return `${notGrpcPrefix}no-content-type`;
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/grpc' || type.startsWith('application/grpc+')) return undefined;
  return `${notGrpcPrefix}${type}`;
}

/** The prefix of the answer kind notGrpcKind names. */
export const notGrpcPrefix = 'not-grpc:';

/**
 * A gRPC call's outcome from what came back: its status code (grpc-status, or mapped from a non-200 HTTP
 * status); an answer kind (GrpcAnswerKind) for an answer that is no success although its status is none or OK:
 * `health:<status>` for a health answer other than SERVING (fortio's RetCodes count it by that status, as an
 * answer), `not-grpc:<content-type>` for an HTTP 200 that is not a gRPC response; or the error kind of a reply
 * that is not a valid one, counted as failed: `bad-response` (a gRPC content-type but no grpc-status on a 200, a
 * wrong message count for an OK call, an unreadable health answer).
 */
export function grpcOutcome(httpStatus: number, grpcStatus: number | undefined, messages: Counter, expectedMessages: number, healthBody: Buffer[] | undefined, contentType: string | undefined): number | string | GrpcAnswerKind {
  let code = grpcStatus;
  if (httpStatus !== 200) code = code ?? grpcCodeForHttpStatus(httpStatus);
  else if (code === undefined) {
    const notGrpc = notGrpcKind(contentType);
    if (notGrpc !== undefined) return { answer: notGrpc };
  }
  // A 200 without grpc-status is not a gRPC response (grpc-go: "server closed the stream without sending trailers").
  // Codes beyond gRPC's 0–16 are kept by number (grpc-go's Code(n)) up to what the runner's status table holds.
  if (code === undefined || !Number.isInteger(code) || code < 0 || code > 599) return 'bad-response';
  if (code !== 0) return code;
  if (!messages.atBoundary || messages.messages !== expectedMessages) return 'bad-response';
  if (healthBody !== undefined) {
    let serving: string;
    try {
      serving = decodeHealthStatus(Buffer.concat(healthBody).subarray(5));
    } catch {
      return 'bad-response';
    }
    if (serving !== 'SERVING') return { answer: `health:${serving}` };
  }
  return 0;
}

/** A gRPC call slot over the hand-written HTTP/2 client (h2FastConnection.ts); outcomes as GrpcConnection's. */
export class GrpcFastStream extends H2FastStream {
  constructor(id: number, session: H2FastSession, private readonly expectedMessages: number, events: ConnectionEvents) {
    super(id, session, events);
  }

  override finished(f: InFlight): void {
    const o = grpcOutcome(f.status, f.grpcStatus, f.messages as Counter, this.expectedMessages, f.body, f.contentType);
    if (typeof o === 'string') this.failed(o);
    else if (typeof o === 'number') this.completed(o, f.bodyBytes + f.headBytes, f.headBytes);
    else this.completed(0, f.bodyBytes + f.headBytes, f.headBytes, o.answer);
  }
}
