import type { LoadResult } from './loadResult';
import type { HistogramRecord } from './loadResult';

function us(v: number): string {
  if (v >= 1_000_000) return `${(v / 1_000_000).toFixed(3)} s`;
  if (v >= 10_000) return `${(v / 1000).toFixed(2)} ms`;
  if (v >= 1000) return `${(v / 1000).toFixed(3)} ms`;
  return `${v.toFixed(0)} µs`;
}

/** A figure of a histogram record: null (nothing recorded) prints as none, never as 0 µs. */
function fig(v: number | null | undefined): string {
  return v === null || v === undefined ? 'none' : us(v);
}

/** Why an empty histogram is empty (results before unavailableReason existed say only that it is). */
function emptyText(h: HistogramRecord): string {
  return `none (${h.unavailableReason ?? 'nothing recorded'})`;
}

function percentileText(h: HistogramRecord): string {
  return h.count === 0 ? emptyText(h) : Object.entries(h.percentilesUs).map(([p, v]) => `p${p} ${fig(v)}`).join('  ');
}

function histogramLines(title: string, h: HistogramRecord): string[] {
  if (h.count === 0) return [`${title}: ${emptyText(h)}`];
  return [`${title}: count ${h.count}  min ${fig(h.minUs)}  mean ${fig(h.meanUs)}  stddev ${fig(h.stddevUs)}  max ${fig(h.maxUs)}`, `  ${percentileText(h)}`];
}

/**
 * How the achieved rate was read, when not simply over the window: in open loop over the requests due in it
 * as whole send intervals (LoadResult.rateWindowUs), e.g. " over 2 whole send intervals (0.667 s)".
 */
function rateBasis(r: LoadResult): string {
  const rw = r.rateWindowUs;
  if (rw === undefined || Math.abs(rw - r.actualDurationUs) < 1 || r.options.mode !== 'fixed-rate') return '';
  const sends = Math.round((rw * r.options.qps) / 1e6);
  return ` over ${sends} whole send interval${sends === 1 ? '' : 's'} (${(rw / 1e6).toFixed(3)} s)`;
}

/** The human summary printed on stderr; formatting only, no measuring (autocannon's printResult). */
export function formatLoadSummary(r: LoadResult): string {
  const o = r.options;
  const lines: string[] = [];
  const mode = o.mode === 'max' ? 'max throughput (closed loop)' : `fixed rate ${o.qps} qps (open loop)`;
  lines.push(`meshbench load ${o.url}: ${mode}, ${o.connections} connection(s)${(o.streams ?? 1) > 1 ? ` × ${o.streams} streams` : ''}, ${o.keepAlive ? 'keep-alive' : 'new connection per request'}`);
  // Answers that count as errors (fortio's rule): an HTTP status outside 2xx, a gRPC status other than OK.
  const non2xx = o.protocol === 'tcp' ? 0 : Object.entries(r.statusCounts)
    .filter(([c]) => (o.protocol === 'grpc' ? c !== 'OK' : Number(c) < 200 || Number(c) > 299)).reduce((n, [, k]) => n + k, 0);
  lines.push(`${r.requestsCompleted} answered${non2xx > 0 ? ` (${non2xx} with ${o.protocol === 'grpc' ? 'a status other than OK' : 'a non-2xx status'})` : ''} in a ${(r.actualDurationUs / 1e6).toFixed(3)} s window: ${r.actualQps === null ? `achieved rate not measured (${r.actualQpsUnavailableReason ?? 'no window'})` : `${r.actualQps.toFixed(1)} qps achieved${rateBasis(r)}`}, ${r.requestsFailed} failed without an answer`);
  const unaccounted = [
    r.requestsUnsent > 0 ? `${r.requestsUnsent} unsent at the window's close` : '',
    r.requestsInFlightAtEnd > 0 ? `${r.requestsInFlightAtEnd} in flight after the drain` : '',
    r.requestsOverflowed > 0 ? `${r.requestsOverflowed} dropped over --max-pending ${o.maxPending}` : '',
  ].filter((x) => x !== '');
  if (unaccounted.length > 0) lines.push(`the server fell behind the rate: ${unaccounted.join(', ')} (in the latency figures as failed)`);
  if (o.mode === 'fixed-rate') {
    lines.push(...histogramLines('latency, every request (from intended send time, coordinated omission corrected)', r.latency));
    lines.push(...histogramLines('service time (from actual send)', r.serviceTime));
    lines.push(r.sendLag.count === 0 ? `client send lag: ${emptyText(r.sendLag)}`
      : `client send lag: p50 ${fig(r.sendLag.percentilesUs['50'])}  p99 ${fig(r.sendLag.percentilesUs['99'])}  max ${fig(r.sendLag.maxUs)}`);
  } else {
    lines.push(...histogramLines('latency, every request', r.latency));
  }
  if (r.errorLatency.count > 0) {
    // fortio's rule puts non-2xx answers among the errors, while "failed" above counts requests with no
    // answer at all; the label says which this histogram holds.
    const errorLabel = non2xx === 0 ? 'failed only' : `errors only (${o.protocol === 'grpc' ? 'not OK' : 'non-2xx'} and failed)`;
    lines.push(`  successful only (${r.successLatency.count}): ${percentileText(r.successLatency)}`);
    lines.push(`  ${errorLabel} (${r.errorLatency.count}): ${percentileText(r.errorLatency)}`);
  }
  const codes = Object.entries(r.statusCounts);
  if (o.protocol !== 'tcp') lines.push(`${o.protocol === 'grpc' ? 'gRPC statuses' : 'status codes'}: ${codes.length === 0 ? 'none' : codes.map(([c, n]) => `${c}: ${n}`).join(', ')}`);
  const errors = Object.entries(r.errorsByKind);
  if (errors.length > 0) lines.push(`errors: ${errors.map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  // Every socket opened is a connection attempt, refused ones included (fortio's SocketCount counts the same).
  lines.push(`connection attempts: ${r.socketsOpened}${o.keepAlive ? ` (for perfect keep-alive, would be ${o.connections})` : ''}`);
  // One figure per slot reads well up to a few dozen; beyond that (many streams) the spread says as much.
  const perSlot = r.requestsPerConnection;
  // Requests written to a connected socket (LoadResult.requestsPerConnection): a refused one was carried by none.
  lines.push(perSlot.length <= 64 ? `requests per connection: ${perSlot.join(' ')}`
    : `requests per slot (${perSlot.length}): min ${Math.min(...perSlot)}, max ${Math.max(...perSlot)}, ${perSlot.filter((n) => n === 0).length} idle`);
  lines.push(`bytes sent ${r.bytesSent}, received ${r.bytesReceived}`);
  return `${lines.join('\n')}\n`;
}
