import { LatencyHistogram } from './latencyHistogram';
import type { LoadResult } from './loadResult';
import { formatDurationUs } from './durationParse';

/** The subset of fortio's HTTPRunnerResults / TCPResultMap that fortio's UI and report tools read. */
export interface FortioHistogram {
  Count: number;
  Min: number;
  Max: number;
  Sum: number;
  Avg: number;
  StdDev: number;
  Data: Array<{ Start: number; End: number; Percent: number; Count: number }>;
  Percentiles: Array<{ Percentile: number; Value: number }>;
}

export interface FortioResult {
  RunType: 'HTTP' | 'TCP';
  Labels: string;
  StartTime: string;
  RequestedQPS: string;
  RequestedDuration: string;
  ActualQPS: number;
  ActualDuration: number;
  NumThreads: number;
  Version: string;
  DurationHistogram: FortioHistogram;
  ErrorsDurationHistogram: FortioHistogram;
  Exactly: number;
  Jitter: boolean;
  Uniform: boolean;
  NoCatchUp: boolean;
  RetCodes: Record<string, number>;
  Sizes: { Count: number; Sum: number; Avg: number };
  URL?: string;
  Destination?: string;
  SocketCount: number;
  ErrorsByKind: Record<string, number>;
}

const usToSeconds = (us: number): number => us / 1e6;

/**
 * fortio's bucket edges are coarse; we merge HDR buckets into a 1-2-5 series of µs edges so the Data
 * array stays a few dozen entries while percentiles come from the exact HDR histogram.
 */
function edgesUs(maxUs: number): number[] {
  const edges = [0];
  for (let decade = 1; edges[edges.length - 1] as number <= maxUs; decade *= 10) {
    for (const m of [1, 2, 5]) edges.push(m * decade);
  }
  return edges;
}

export function toFortioHistogram(encoded: string, percentiles: readonly number[]): FortioHistogram {
  const h = LatencyHistogram.decode(encoded);
  const s = h.summary(percentiles);
  const buckets = h.buckets();
  const edges = edgesUs(s.maxUs);
  const data: FortioHistogram['Data'] = [];
  let cumulative = 0;
  let bi = 0;
  for (let i = 0; i + 1 < edges.length && bi < buckets.length; i += 1) {
    const lo = edges[i] as number;
    const hi = edges[i + 1] as number;
    let count = 0;
    while (bi < buckets.length && (buckets[bi] as { lowUs: number }).lowUs < hi) {
      count += (buckets[bi] as { count: number }).count;
      bi += 1;
    }
    if (count === 0) continue;
    cumulative += count;
    data.push({ Start: usToSeconds(Math.max(lo, s.minUs)), End: usToSeconds(Math.min(hi, s.maxUs)), Percent: (100 * cumulative) / s.count, Count: count });
  }
  return {
    Count: s.count,
    Min: usToSeconds(s.minUs),
    Max: usToSeconds(s.maxUs),
    Sum: usToSeconds(s.meanUs * s.count),
    Avg: usToSeconds(s.meanUs),
    StdDev: usToSeconds(s.stddevUs),
    Data: data,
    Percentiles: percentiles.map((p) => ({ Percentile: p, Value: usToSeconds(s.percentilesUs[String(p)] ?? 0) })),
  };
}

const emptyHistogram: FortioHistogram = { Count: 0, Min: 0, Max: 0, Sum: 0, Avg: 0, StdDev: 0, Data: [], Percentiles: [] };

/** fortio-compatible JSON of a meshbench load result (durations in seconds, as fortio writes them). */
export function toFortioJson(result: LoadResult, percentiles: readonly number[] = [50, 75, 90, 99, 99.9]): FortioResult {
  const o = result.options;
  const requestedDuration = o.requests !== null ? `exactly ${o.requests} calls` : formatDurationUs(o.durationUs ?? 0);
  return {
    RunType: o.protocol === 'http' ? 'HTTP' : 'TCP',
    Labels: result.labels,
    StartTime: result.startTime,
    RequestedQPS: o.mode === 'max' ? 'max' : String(o.qps),
    RequestedDuration: requestedDuration,
    ActualQPS: result.actualQps,
    ActualDuration: Math.round(result.actualDurationUs * 1000),
    NumThreads: o.connections,
    Version: `meshbench-${result.version}`,
    DurationHistogram: toFortioHistogram(result.latency.histogram, percentiles),
    ErrorsDurationHistogram: { ...emptyHistogram, Count: result.requestsFailed },
    Exactly: o.requests ?? 0,
    Jitter: false,
    Uniform: false,
    NoCatchUp: false,
    // fortio's TCP runner counts successes under "OK"; HTTP keys are status codes.
    RetCodes: o.protocol === 'http' ? { ...result.statusCounts } : { OK: result.requestsCompleted },
    Sizes: {
      Count: result.requestsCompleted,
      Sum: result.bytesReceived,
      Avg: result.requestsCompleted > 0 ? result.bytesReceived / result.requestsCompleted : 0,
    },
    ...(o.protocol === 'http' ? { URL: o.url } : { Destination: o.url }),
    SocketCount: result.socketsOpened,
    ErrorsByKind: { ...result.errorsByKind },
  };
}
