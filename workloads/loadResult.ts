import type { FortioHistogramData } from './fortioHistogram';
import type { LatencySummary } from './latencyHistogram';
import type { LoadProtocol } from './loadTarget';
import type { Bytes, Microseconds, RequestsPerSecond } from './units';

export const loadResultSchemaVersion = 1;

export interface HistogramRecord extends LatencySummary {
  /** HdrHistogram compressed base64 (V2 encoding), values in µs. */
  readonly histogram: string;
}

/** Everything one `meshbench load` measured, echoing the options that produced it (fortio's RunnerResults). */
export interface LoadResult {
  readonly schemaVersion: typeof loadResultSchemaVersion;
  readonly tool: 'meshbench';
  readonly version: string;
  readonly startTime: string;
  readonly labels: string;
  readonly options: {
    readonly url: string;
    readonly protocol: LoadProtocol;
    readonly mode: 'fixed-rate' | 'max';
    readonly qps: RequestsPerSecond;
    readonly connections: number;
    /** Concurrent streams per connection (HTTP/2, gRPC; 1 for HTTP/1.1 and TCP); absent in results before it existed. */
    readonly streams?: number;
    /** gRPC only: the method called (`/fgrpc.PingServer/Ping`, …), the ping delay asked for (µs), the health service. */
    readonly grpcMethod?: string;
    readonly grpcPingDelayUs?: number;
    readonly grpcHealthService?: string;
    readonly durationUs: Microseconds | null;
    readonly requests: number | null;
    readonly warmupUs: Microseconds;
    readonly payloadBytes: Bytes;
    readonly keepAlive: boolean;
    readonly timeoutUs: Microseconds;
    /** Credentials redacted (`Authorization: ***`). */
    readonly headers: ReadonlyArray<readonly [string, string]>;
    /** Backlog cap (requests due but not yet sent), as Nighthawk's --max-pending-requests. */
    readonly maxPending: number;
    /** How long requests in flight at the window's close may still complete. */
    readonly drainUs: Microseconds;
  };
  /**
   * The measured window: the requested duration (or up to an abort); with --requests at a fixed rate,
   * requests ÷ qps; with --requests in max mode, up to the last outcome.
   */
  readonly actualDurationUs: Microseconds;
  /** Requests answered with a response (any status). */
  readonly requestsCompleted: number;
  /**
   * Requests recorded without a response: every kind in `errorsByKind`, including `unsent`,
   * `in-flight-at-end` and `overflow`. requestsCompleted + requestsFailed = latency.count.
   */
  readonly requestsFailed: number;
  /** requestsCompleted ÷ the measured window. */
  readonly actualQps: RequestsPerSecond;
  /**
   * Latency from each request's intended send time (coordinated omission corrected) of every request
   * whose intended time fell in the window, failed ones included (as fortio's DurationHistogram);
   * = serviceTime in max mode.
   */
  readonly latency: HistogramRecord;
  /** The part of `latency` that failed: no response, or a status outside 2xx (fortio's ErrorsDurationHistogram). */
  readonly errorLatency: HistogramRecord;
  /** The part of `latency` that succeeded (2xx, or the TCP echo came back whole). */
  readonly successLatency: HistogramRecord;
  /** From the moment the request actually went out (or its connection started): what an uncorrected tool reports. */
  readonly serviceTime: HistogramRecord;
  /** How late the client itself sent each request after its intended time: the scheduler's own error. */
  readonly sendLag: HistogramRecord;
  /**
   * Answered requests by status: HTTP by number (`"200"`), gRPC by name (`"OK"`, `"UNAVAILABLE"`), plus gRPC
   * answers that are no success although no status says so, by kind: `health:NOT_SERVING` (a health answer other
   * than SERVING), `not-grpc:<content-type>` (an HTTP 200 that is not a gRPC response). Sums to requestsCompleted.
   */
  readonly statusCounts: Readonly<Record<string, number>>;
  /** Requests without an answer, by kind (`ECONNREFUSED`, `timeout`, `rst-stream:CANCEL`…). Sums to requestsFailed. */
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly socketsOpened: number;
  /**
   * Bytes of the requests written to a connected socket, warm-up included (the request's size on the wire;
   * HTTP/2: its header list size and body). A request whose connection was refused or never connected
   * sent 0 bytes.
   */
  readonly bytesSent: Bytes;
  /** Bytes of the whole responses received (warm-up included); a partial response before an error is not counted. */
  readonly bytesReceived: Bytes;
  /** Requests due in the window but not sent when it closed; recorded with latency = close − intended. */
  readonly requestsUnsent: number;
  /** Requests still unanswered when the drain after the window ended; recorded with latency = drain end − intended. */
  readonly requestsInFlightAtEnd: number;
  /** Requests dropped from a backlog over --max-pending; recorded with latency = drop time − intended. */
  readonly requestsOverflowed: number;
  /** Bytes received per request (head and body), every recorded request, as fortio's Sizes (divider 100). */
  readonly responseBytes: FortioHistogramData;
  /** Response head bytes per request, as fortio's HeaderSizes (divider 5); zeros for TCP. */
  readonly headerBytes: FortioHistogramData;
  /** Requests carried by each connection slot (reconnects keep their slot): how evenly the load was spread. */
  readonly requestsPerConnection: readonly number[];
  /** Sockets each connection slot opened (fortio's Sockets); 1 each for perfect keep-alive. */
  readonly socketsPerConnection: readonly number[];
}
