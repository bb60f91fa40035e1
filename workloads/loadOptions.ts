import type { GrpcCall } from './grpcConnection';
import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds, RequestsPerSecond } from './units';

export interface LoadOptions {
  readonly target: LoadTarget;
  /** 0 means closed loop at maximum throughput; otherwise open loop at this rate. */
  readonly qps: RequestsPerSecond;
  readonly connections: number;
  /**
   * HTTP/2 and gRPC: concurrent streams per connection (h2load's -m, fortio's -s), each a slot with one
   * request in flight, so the run has connections × streams slots. Absent or 1: one request in flight per
   * connection, as HTTP/1.1.
   */
  readonly streams?: number;
  /** gRPC: which call, and its ping delay / health service; absent for other protocols. */
  readonly grpc?: GrpcCall;
  /** Stop after this long (measurement window, warm-up excluded). */
  readonly durationUs: Microseconds | undefined;
  /** Stop after this many measured requests. */
  readonly requests: number | undefined;
  readonly warmupUs: Microseconds;
  /** HTTP body (POST) or TCP message size; 0 for a GET without body. */
  readonly payloadBytes: Bytes;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** false: one new TCP connection per request (connection setup is part of what is measured). */
  readonly keepAlive: boolean;
  /** Per request, from its actual send; only this makes a request a `timeout`. */
  readonly timeoutUs: Microseconds;
  /**
   * Cap on the backlog (requests due but not yet sent, over all connections), as Nighthawk's
   * --max-pending-requests; beyond it the oldest waiting request is dropped and counted as `overflow`.
   */
  readonly maxPending: number;
  /** After the window closes, requests in flight get this long to complete before they count as `in-flight-at-end`. */
  readonly drainUs: Microseconds;
  readonly labels: string;
}
