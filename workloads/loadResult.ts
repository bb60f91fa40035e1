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
    readonly durationUs: Microseconds | null;
    readonly requests: number | null;
    readonly warmupUs: Microseconds;
    readonly payloadBytes: Bytes;
    readonly keepAlive: boolean;
    readonly timeoutUs: Microseconds;
    readonly headers: ReadonlyArray<readonly [string, string]>;
  };
  /** From the start of the measured window to the last measured completion. */
  readonly actualDurationUs: Microseconds;
  readonly requestsCompleted: number;
  readonly requestsFailed: number;
  readonly actualQps: RequestsPerSecond;
  /** Latency from each request's intended send time (coordinated omission corrected); = serviceTime in max mode. */
  readonly latency: HistogramRecord;
  /** From the moment the request actually went out (or its connection started): what an uncorrected tool reports. */
  readonly serviceTime: HistogramRecord;
  /** How late the client itself sent each request after its intended time: the scheduler's own error. */
  readonly sendLag: HistogramRecord;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly socketsOpened: number;
  readonly bytesSent: Bytes;
  readonly bytesReceived: Bytes;
  /** Requests released by the schedule but never sent because the run ended while they queued. */
  readonly requestsUnsent: number;
}
