import { FortioHistogram, type FortioHistogramData } from './fortioHistogram';
import { LatencyHistogram } from './latencyHistogram';
import { histogramRecord, type HistogramRecord, type LoadResult } from './loadResult';
import { formatDurationUs } from './durationParse';

/**
 * fortio's HTTPRunnerResults (fhttp/httprunner.go, embedding periodic.RunnerResults), TCP
 * RunnerResults (tcprunner/tcprunner.go) and GRPCRunnerResults (fgrpc/grpcrunner.go), with the fields
 * meshbench can fill; durations in seconds (ActualDuration in ns, Go's time.Duration), as fortio writes
 * them. `ErrorsByKind` is meshbench's own addition: what RetCodes["-1"] (HTTP) or RetCodes["ERROR"] (gRPC)
 * is made of.
 */
export interface FortioResult {
  /** `HTTP`, `TCP`, or fortio's gRPC forms: `GRPC Ping[ Delay=…][ PayloadLength=N]`, `GRPC Health for '<service>'`. */
  RunType: string;
  Labels: string;
  StartTime: string;
  RequestedQPS: string;
  RequestedDuration: string;
  ActualQPS: number;
  ActualDuration: number;
  NumThreads: number;
  Version: string;
  DurationHistogram: FortioHistogramData;
  ErrorsDurationHistogram: FortioHistogramData;
  Exactly: number;
  Jitter: boolean;
  Uniform: boolean;
  NoCatchUp: boolean;
  RunID: number;
  AccessLoggerInfo: string;
  ID: string;
  RetCodes: Record<string, number>;
  /** HTTP only: bytes per call, head and body (fortio's stats.NewHistogram(0, 100)). */
  Sizes?: FortioHistogramData;
  /** HTTP only: head bytes per call (fortio's stats.NewHistogram(0, 5)). */
  HeaderSizes?: FortioHistogramData;
  URL?: string;
  Destination?: string;
  /** gRPC only: streams per connection (fortio's -s). */
  Streams?: number;
  /** gRPC only: the ping service was called (fortio's -ping), else the health service. */
  Ping?: boolean;
  /** gRPC only: request metadata (metadata.MD, lower-case keys to value lists); null without any, as Go writes a nil map. */
  Metadata?: Record<string, string[]> | null;
  Sockets: number[];
  SocketCount: number;
  ErrorsByKind: Record<string, number>;
}

/**
 * Bucket width of the exported duration histograms: fortio's -r flag, here 100 µs rather than fortio's
 * 1 ms default, because mesh latencies are mostly below a millisecond and a 1 ms bucket would put the
 * whole run in one bar.
 */
export const fortioResolutionSeconds = 0.0001;

/** fortio's default percentile list (-p "50,75,90,99,99.9"). */
export const fortioPercentiles = [50, 75, 90, 99, 99.9] as const;

/**
 * fortio's view of an HDR latency histogram: fortio's buckets (offset 0, divider = resolution, seconds),
 * Count/Min/Max/Avg/StdDev from the HDR summary, percentiles from the HDR histogram (exact to 3 digits,
 * where fortio interpolates inside its buckets).
 */
export function toFortioHistogram(record: HistogramRecord, percentiles: readonly number[] = fortioPercentiles): FortioHistogramData {
  const hdr = LatencyHistogram.decode(record.histogram);
  const s = hdr.summary(percentiles);
  const f = new FortioHistogram(0, fortioResolutionSeconds);
  for (const b of hdr.buckets()) f.recordBucket(b.highUs / 1e6, b.count);
  f.setCounter({ count: s.count, min: s.minUs / 1e6, max: s.maxUs / 1e6, sum: (s.meanUs * s.count) / 1e6, stdDev: s.stddevUs / 1e6 });
  const out = f.export();
  if (s.count > 0) out.Percentiles = percentiles.map((p) => ({ Percentile: p, Value: (s.percentilesUs[String(p)] ?? 0) / 1e6 }));
  return out;
}

/**
 * What fortio writes for a run that has no call at all (fhttp.NewErrorResult): two points, 0 and 1 ms, so
 * its chart code has Data to draw a red block from instead of failing on an empty array.
 */
function emptyRunHistogram(): FortioHistogramData {
  const f = new FortioHistogram(0, 0.001);
  f.record(0);
  f.record(0.001);
  return f.export();
}

/**
 * fortio-compatible JSON of a meshbench load result. Every recorded request is a call: answered ones
 * under their status code, the rest (socket errors, timeouts, bad responses, and meshbench's `unsent`,
 * `in-flight-at-end`, `overflow`) under RetCodes["-1"], fortio's code for a call without a response
 * (fhttp.SocketError). DurationHistogram covers every call, ErrorsDurationHistogram the non-2xx ones.
 * ActualQPS counts the calls that went out, errors included, over the window the achieved rate is read
 * over (LoadResult.rateWindowUs: whole send intervals in open loop), unrounded as fortio writes it
 * (periodic.go: float64(count) / elapsed.Seconds(), marshalled as is; fortio rounds only what it prints).
 */
export function toFortioJson(stored: LoadResult, percentiles: readonly number[] = fortioPercentiles): FortioResult {
  const result = withPre011Defaults(stored);
  const o = result.options;
  const requestedDuration = o.requests !== null ? `exactly ${o.requests} calls` : formatDurationUs(o.durationUs ?? 0);
  const http = o.protocol === 'http' || o.protocol === 'http2';
  const grpc = o.protocol === 'grpc';
  const neverSent = result.requestsUnsent + result.requestsOverflowed;
  const callsSent = result.requestsCompleted + result.requestsFailed - neverSent;
  const retCodes: Record<string, number> = {};
  if (http) {
    Object.assign(retCodes, result.statusCounts);
    if (result.requestsFailed > 0) retCodes['-1'] = result.requestsFailed;
  } else if (grpc) {
    // fortio's gRPC runner keys a call that came back OK "SERVING" (grpcrunner.go: the ping counts as the
    // health status SERVING) and every failure "ERROR"; meshbench keeps fortio's SERVING and ERROR (calls
    // without a status: socket errors, resets, timeouts) and names the statuses a server answered with.
    // A health answer other than SERVING is fortio's RetCodes[<that status>]; a reply that is no gRPC
    // response at all is an error to fortio (grpc-go fails the call), so ERROR.
    let notGrpc = 0;
    for (const [name, n] of Object.entries(result.statusCounts)) {
      if (name.startsWith('health:')) retCodes[name.slice('health:'.length)] = n;
      else if (name.startsWith('not-grpc:')) notGrpc += n;
      else retCodes[name === 'OK' ? 'SERVING' : name] = n;
    }
    if (result.requestsFailed + notGrpc > 0) retCodes.ERROR = result.requestsFailed + notGrpc;
  } else {
    // fortio's TCP runner keys successes "OK" and failures by their error text.
    if (result.requestsCompleted > 0) retCodes.OK = result.requestsCompleted;
    Object.assign(retCodes, result.errorsByKind);
  }
  const anyCall = result.latency.count > 0;
  const rateWindowUs = result.rateWindowUs ?? result.actualDurationUs;
  return {
    RunType: http ? 'HTTP' : grpc ? grpcRunType(result) : 'TCP',
    // fortio's gRPC runner runs threads × streams goroutines and reports that as NumThreads.
    Labels: result.labels,
    StartTime: result.startTime,
    RequestedQPS: o.mode === 'max' ? 'max' : String(o.qps),
    RequestedDuration: requestedDuration,
    ActualQPS: rateWindowUs > 0 ? (callsSent * 1e6) / rateWindowUs : 0,
    ActualDuration: Math.round(result.actualDurationUs * 1000),
    NumThreads: grpc ? o.connections * (o.streams ?? 1) : o.connections,
    Version: `meshbench-${result.version}`,
    DurationHistogram: anyCall ? toFortioHistogram(result.latency, percentiles) : emptyRunHistogram(),
    ErrorsDurationHistogram: anyCall ? toFortioHistogram(result.errorLatency, percentiles) : emptyRunHistogram(),
    Exactly: o.requests ?? 0,
    Jitter: false,
    // Connections run staggered per-connection schedules: what fortio calls -uniform.
    Uniform: o.mode === 'fixed-rate',
    NoCatchUp: false,
    RunID: 0,
    AccessLoggerInfo: '',
    ID: '',
    RetCodes: retCodes,
    ...(http ? { Sizes: result.responseBytes, HeaderSizes: result.headerBytes, URL: o.url } : { Destination: o.url }),
    ...(grpc ? { Streams: o.streams ?? 1, Ping: o.grpcMethod !== '/grpc.health.v1.Health/Check', Metadata: grpcMetadata(o.headers) } : {}),
    Sockets: [...result.socketsPerConnection],
    SocketCount: result.socketsOpened,
    ErrorsByKind: { ...result.errorsByKind },
  };
}

/** fortio's RunType for a gRPC run (fgrpc.RunGRPCTest): the call, its ping delay and payload length. */
function grpcRunType(r: LoadResult): string {
  const o = r.options;
  if (o.grpcMethod === '/grpc.health.v1.Health/Check') return `GRPC Health for '${o.grpcHealthService ?? ''}'`;
  let t = 'GRPC Ping';
  if ((o.grpcPingDelayUs ?? 0) > 0) t += ` Delay=${formatDurationUs(o.grpcPingDelayUs ?? 0)}`;
  if (o.payloadBytes > 0) t += ` PayloadLength=${o.payloadBytes}`;
  return t;
}

/** Request headers as gRPC metadata (fortio's httpHeader2grpcMetadata: lower-case keys, value lists); null when none. */
function grpcMetadata(headers: ReadonlyArray<readonly [string, string]>): Record<string, string[]> | null {
  if (headers.length === 0) return null;
  const md: Record<string, string[]> = {};
  for (const [n, v] of headers) (md[n.toLowerCase()] ??= []).push(v);
  return md;
}

/**
 * Results written before the load client accounted for every request lack the per-kind counts, the
 * error histogram and the size histograms: their absence means none were kept, so they read as zero
 * counts and, for the error histogram, as "no failed call recorded" (those runs left failures out).
 */
function withPre011Defaults(r: LoadResult): LoadResult {
  const partial = r as Partial<LoadResult> & LoadResult;
  if (partial.errorLatency !== undefined && partial.responseBytes !== undefined) return r;
  const emptyRecord: HistogramRecord = histogramRecord(new LatencyHistogram(), 'not kept by the meshbench that wrote this result');
  const emptySizes = new FortioHistogram(0, 100).export();
  return {
    ...r,
    errorLatency: partial.errorLatency ?? emptyRecord,
    successLatency: partial.successLatency ?? r.latency,
    requestsUnsent: partial.requestsUnsent ?? 0,
    requestsInFlightAtEnd: partial.requestsInFlightAtEnd ?? 0,
    requestsOverflowed: partial.requestsOverflowed ?? 0,
    responseBytes: partial.responseBytes ?? emptySizes,
    headerBytes: partial.headerBytes ?? emptySizes,
    requestsPerConnection: partial.requestsPerConnection ?? [],
    socketsPerConnection: partial.socketsPerConnection ?? [],
  };
}
