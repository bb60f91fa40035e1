import type { FortioHistogramData } from './fortioHistogram';
import type { LatencyHistogram } from './latencyHistogram';
import type { LoadProtocol } from './loadTarget';
import type { Bytes, Microseconds, RequestsPerSecond } from './units';

export const loadResultSchemaVersion = 1;

/**
 * One latency histogram as a result stores it: the summary figures (µs) and the encoded histogram. An empty
 * histogram measured nothing, so its figures are null and `unavailableReason` says why ("no request failed"),
 * never 0 µs, which would read as a measured latency. Results written before this rule have count 0 and
 * zeros instead: readers go by `count`.
 */
export interface HistogramRecord {
  readonly count: number;
  readonly minUs: Microseconds | null;
  readonly maxUs: Microseconds | null;
  readonly meanUs: Microseconds | null;
  readonly stddevUs: Microseconds | null;
  /** Keyed by percentile as text ("50", "99.9"); every value null when count is 0. */
  readonly percentilesUs: Readonly<Record<string, Microseconds | null>>;
  /** Only when count is 0: why nothing was recorded. */
  readonly unavailableReason?: string;
  /** HdrHistogram compressed base64 (V2 encoding), values in µs. */
  readonly histogram: string;
}

/**
 * The stored form of `h`: its summary, or null figures and `emptyReason` when it holds no value (`emptyReason`:
 * why that histogram can be empty, e.g. "no request failed").
 */
export function histogramRecord(h: LatencyHistogram, emptyReason: string): HistogramRecord {
  const s = h.summary();
  if (s.count > 0) return { ...s, histogram: h.encode() };
  const percentilesUs: Record<string, null> = {};
  for (const p of Object.keys(s.percentilesUs)) percentilesUs[p] = null;
  return { count: 0, minUs: null, maxUs: null, meanUs: null, stddevUs: null, percentilesUs, unavailableReason: emptyReason, histogram: h.encode() };
}

/** What the load client knows when its latency histogram (every measured request, failed ones too) is empty. */
export interface EmptyLatencyFacts {
  readonly mode: 'fixed-rate' | 'max';
  readonly qps: RequestsPerSecond;
  readonly connections: number;
  /** The measured window's length. */
  readonly windowUs: Microseconds;
  /** Ctrl-C (the abort signal) closed the run before its measured window began. */
  readonly interruptedBeforeWindow: boolean;
  /** Requests sent in the warm-up (not measured) and still unanswered when the drain ended. */
  readonly warmupUnanswered: number;
}

/**
 * Pure: why the latency histogram is empty, in the words of what happened. Every measured request lands in it,
 * answered or not (an error, a timeout, `unsent`, `in-flight-at-end`: fortio's and wrk2's rule of counting a
 * request from its intended time), so it is empty only when no measured request existed: at a fixed rate, none
 * was due in the window (shorter than one send interval: a guard for library callers, as the CLI and profiles
 * refuse such windows, windowFloor.ts); in max mode, no connection was free to send one
 * (every connection still waiting on a warm-up request); or the run was interrupted before the window.
 */
export function emptyLatencyReason(f: EmptyLatencyFacts): string {
  if (f.interruptedBeforeWindow) return 'the run was interrupted before the measured window began';
  const ms = (us: number): string => `${Number((us / 1000).toFixed(3))} ms`;
  const stuck = f.warmupUnanswered > 0 ? `: ${f.warmupUnanswered} of ${f.connections} connection${f.connections === 1 ? '' : 's'} waited through it on a warm-up request that never got an answer` : '';
  if (f.mode === 'max') return `no request was sent in the measured window (${ms(f.windowUs)})${stuck}`;
  return `no request was due in the measured window (${ms(f.windowUs)}; one every ${ms(1e6 / f.qps)} at ${f.qps} qps)${stuck}`;
}

/**
 * Pure: why the histogram of successful requests is empty, with the counts: answers with an error status, and
 * failures without an answer by kind (e.g. "no request succeeded: 12 failed without an answer (refused: 2,
 * timeout: 10)"); "no request was measured" when there was neither.
 */
export function noSuccessReason(answered: number, failedByKind: ReadonlyMap<string, number>): string {
  const failed = [...failedByKind.values()].reduce((a, b) => a + b, 0);
  if (answered === 0 && failed === 0) return 'no request was measured';
  const kinds = [...failedByKind].filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`).join(', ');
  const parts = [answered > 0 ? `${answered} answered with an error status` : '', failed > 0 ? `${failed} failed without an answer (${kinds})` : ''].filter((x) => x !== '');
  return `no request succeeded: ${parts.join(', ')}`;
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
  /**
   * What the achieved rate is read over. Open loop: the requests due in the window × 1/qps, the window in whole
   * send intervals (each send opens its own interval, so n sends stand for n intervals, not the n − 1 between
   * them: 3 qps for 334 ms sends 2 requests, 0.667 s, not 6.0 qps over 0.334 s); equal to actualDurationUs when
   * the window is a whole number of intervals. Closed loop: actualDurationUs. Absent in results written before
   * it existed (their actualQps is requestsCompleted ÷ actualDurationUs).
   */
  readonly rateWindowUs?: Microseconds;
  /**
   * requestsCompleted ÷ rateWindowUs; null when the window was 0 s (a run interrupted before its measured window
   * began): no rate was measured, and `actualQpsUnavailableReason` says why. Results written before this rule
   * have 0 there: readers go by `actualDurationUs`.
   */
  readonly actualQps: RequestsPerSecond | null;
  /** Only when actualQps is null: why no rate was measured. */
  readonly actualQpsUnavailableReason?: string;
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
  /**
   * Sockets the client opened, i.e. connection attempts, whether the connect succeeded or was refused (as
   * fortio's SocketCount, counted before the dial).
   */
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
  /**
   * Requests carried by each connection slot (reconnects keep their slot), warm-up included: written to a
   * connected socket, answered or not; a request whose connect failed is not counted. How evenly the load was spread.
   */
  readonly requestsPerConnection: readonly number[];
  /** Sockets each connection slot opened (fortio's Sockets); 1 each for perfect keep-alive. */
  readonly socketsPerConnection: readonly number[];
}
