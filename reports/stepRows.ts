import type { MeasurementKind, ProbeFigures, StepRecord } from '../harness/results/resultTypes';
import { groupLabel } from '../harness/results/calibrationText';
import { probedRequests, unixSocketBytes } from '../harness/attribution/overheadBreakdown';

/** One flat row per step: what the CSV holds and most charts draw. Units in the names. */
export interface StepRow {
  readonly runId: string;
  readonly index: number;
  readonly stepId: string;
  readonly dataplane: string;
  readonly placement: string;
  readonly protocol: string;
  readonly qps: number;
  readonly connections: number;
  /** Concurrent streams per connection (HTTP/2, gRPC); 1 for HTTP/1.1, TCP and results written before streams existed. */
  readonly streams: number;
  readonly payloadBytes: number;
  readonly keepAlive: boolean;
  /** "1000 qps × 4 conn" or "max × 16 conn": one load point, for axes and tables. */
  readonly loadLabel: string;
  /** Everything of the point but rate and connections ("cross-node, 0 B"): sweeps are drawn per variant. */
  readonly variant: string;
  /**
   * What kind of measurement the step is (stepMeasurement): `clean` (nothing of meshbench's attached: the
   * headline figures), `instrumented` (probes attached: the breakdown), `inline` (both at once, meshbench
   * ≤ 0.1), or `search-probe` (a probe of a rate search, `load.search`: out of the headline figures).
   */
  readonly measurement: StepMeasurement;
  readonly repetition: number;
  readonly startedAt: string;
  /** Null when the load client measured no rate (a 0 s window). */
  readonly actualQps: number | null;
  readonly requestsCompleted: number;
  /** Failed requests include the three kinds below (the load client records every request of its window). */
  readonly requestsFailed: number;
  /** Due in the window but not sent when it closed (server slower than the rate); null for results written before they were counted. */
  readonly requestsUnsent: number | null;
  /** Still unanswered after the drain that follows the window; null for older results. */
  readonly requestsInFlightAtEnd: number | null;
  /** Dropped from a backlog over --max-pending; null for older results. */
  readonly requestsOverflowed: number | null;
  /** The latency figures: null when the step recorded no request (an empty histogram measured nothing). */
  readonly latencyP50Us: number | null;
  readonly latencyP90Us: number | null;
  readonly latencyP99Us: number | null;
  readonly latencyP999Us: number | null;
  readonly latencyMeanUs: number | null;
  readonly latencyMaxUs: number | null;
  readonly serviceTimeP99Us: number | null;
  readonly cpuUsPerRequest: number | null;
  readonly memoryRssBytesPeak: number | null;
  readonly connectionsOnPath: number | null;
  readonly connectionsPerRequest: number | null;
  readonly bytesCopiedPerRequest: number | null;
  readonly contextSwitchesPerRequest: number | null;
  readonly syscallsPerRequest: number | null;
  /** The eBPF data plane's program run time per request (already inside the client's and server's CPU). */
  readonly ebpfRunTimeUsPerRequest: number | null;
  readonly ebpfMapMemoryBytes: number | null;
}

/** The measurement kind of a step as the CSV names it: a search probe, else its MeasurementKind (absent: inline). */
export type StepMeasurement = MeasurementKind | 'search-probe';

/** Pure: `search-probe` for a probe of a rate search, else the step's measurement kind (`inline` when absent, meshbench ≤ 0.1). */
export function stepMeasurement(s: Pick<StepRecord, 'measurement' | 'search'>): StepMeasurement {
  return s.search !== undefined ? 'search-probe' : (s.measurement ?? 'inline');
}

/** Components whose CPU and memory are their own: a `dataplane` component (eBPF programs) runs inside its hosts' CPU. */
export function ownComponents(s: StepRecord): string[] {
  return s.components.filter((c) => c.role !== 'dataplane').map((c) => c.name);
}

/**
 * A load point for people: "1000 qps × 4 conn", with the payload, new connections per request, and the protocol
 * and streams per connection when they are not HTTP/1.1's one at a time ("1000 qps × 4 conn, grpc × 8 streams").
 */
export function loadLabel(p: { qps: number; connections: number; payloadBytes?: number; keepAlive?: boolean; protocol?: string; streams?: number }): string {
  const payload = p.payloadBytes === undefined || p.payloadBytes === 0 ? '' : `, ${p.payloadBytes} B`;
  const protocol = p.protocol === undefined || p.protocol === 'http' ? '' : `, ${p.protocol}${p.streams !== undefined && p.streams > 1 ? ` × ${p.streams} streams` : ''}`;
  return `${p.qps === 0 ? 'max' : `${p.qps} qps`} × ${p.connections} conn${payload}${p.keepAlive === false ? ', new conn/req' : ''}${protocol}`;
}

export interface PointOf {
  readonly loadPoint: { qps: number; connections: number; payloadBytes: number; keepAlive: boolean };
  readonly placement: string;
}

/** A load point with its placement, when it is not the default cross-node: what a chart's axis or panel names. */
export function pointLabel(x: PointOf): string {
  return `${loadLabel(x.loadPoint)}${x.placement === 'same-node' ? ', same node' : ''}`;
}

function sumOrNull(values: ReadonlyArray<number | null | undefined>): number | null {
  if (values.length === 0 || values.some((v) => v === null || v === undefined)) return null;
  return (values as number[]).reduce((a, b) => a + b, 0);
}

/** A probe figure summed over components, per request the probes saw (probedRequests: the session is a little shorter than the window). */
function perRequest(step: StepRecord, pick: (f: ProbeFigures, component: string) => number): number | null {
  const figures = Object.entries(step.probes.figures);
  const requests = probedRequests(step);
  if (!step.probes.available || figures.length === 0 || !(requests > 0)) return null;
  return figures.reduce((a, [name, f]) => a + pick(f, name), 0) / requests;
}

export function stepRow(runId: string, s: StepRecord): StepRow {
  // An empty histogram (count 0) measured nothing: null, also for results that stored it as zeros.
  const l = s.load.latency;
  const pct = (p: string): number | null => (l.count > 0 ? l.percentilesUs[p] ?? null : null);
  const resources = ownComponents(s).flatMap((n) => (s.resources[n] === undefined ? [] : [s.resources[n]]));
  return {
    runId,
    index: s.index,
    stepId: s.id,
    dataplane: s.variant === undefined ? s.dataplane : groupLabel(s),
    placement: s.placement,
    protocol: s.loadPoint.protocol,
    qps: s.loadPoint.qps,
    connections: s.loadPoint.connections,
    streams: s.loadPoint.streams ?? 1,
    payloadBytes: s.loadPoint.payloadBytes,
    keepAlive: s.loadPoint.keepAlive,
    loadLabel: pointLabel(s),
    variant: `${s.placement}, ${s.loadPoint.payloadBytes} B${s.loadPoint.keepAlive ? '' : ', new conn/req'}`,
    measurement: stepMeasurement(s),
    repetition: s.repetition,
    startedAt: s.startedAt,
    actualQps: s.load.actualQps,
    requestsCompleted: s.load.requestsCompleted,
    requestsFailed: s.load.requestsFailed,
    // Results written before the load client counted these kinds have no such fields: not measured, so null.
    requestsUnsent: (s.load as Partial<typeof s.load>).requestsInFlightAtEnd === undefined ? null : s.load.requestsUnsent,
    requestsInFlightAtEnd: s.load.requestsInFlightAtEnd ?? null,
    requestsOverflowed: s.load.requestsOverflowed ?? null,
    latencyP50Us: pct('50'),
    latencyP90Us: pct('90'),
    latencyP99Us: pct('99'),
    latencyP999Us: pct('99.9'),
    latencyMeanUs: l.count > 0 ? l.meanUs : null,
    latencyMaxUs: l.count > 0 ? l.maxUs : null,
    serviceTimeP99Us: s.load.serviceTime.count > 0 ? s.load.serviceTime.percentilesUs['99'] ?? null : null,
    cpuUsPerRequest: resources.length === 0 ? null : sumOrNull(resources.map((r) => r.cpuUsPerRequest)),
    memoryRssBytesPeak: resources.length === 0 ? null : sumOrNull(resources.map((r) => r.memoryRssBytesPeak)),
    connectionsOnPath: s.connectionsOnPath,
    connectionsPerRequest: perRequest(s, (f) => f.connectionsOpened),
    // Sent plus received, TCP and Unix sockets (the breakdown's bytes/req counts the same).
    bytesCopiedPerRequest: perRequest(s, (f, name) => f.bytesSent + f.bytesReceived + unixSocketBytes(s, name)),
    contextSwitchesPerRequest: perRequest(s, (f) => f.contextSwitchesVoluntary + f.contextSwitchesInvoluntary),
    syscallsPerRequest: perRequest(s, (f) => f.syscalls),
    // Results written before the eBPF cost existed have no such field.
    ebpfRunTimeUsPerRequest: s.ebpf?.runTimeUsPerRequest ?? null,
    ebpfMapMemoryBytes: s.ebpf?.mapMemoryBytes ?? null,
  };
}

export function stepRows(runId: string, steps: readonly StepRecord[]): StepRow[] {
  return steps.map((s) => stepRow(runId, s));
}

/** Point labels in sweep order (placement, payload, keep-alive, connections, then QPS with max throughput last), for chart axes. */
export function orderLoads(points: readonly PointOf[]): string[] {
  const key = (x: PointOf): number[] => [x.placement === 'same-node' ? 1 : 0, x.loadPoint.payloadBytes, x.loadPoint.keepAlive ? 0 : 1, x.loadPoint.connections, x.loadPoint.qps === 0 ? Number.MAX_SAFE_INTEGER : x.loadPoint.qps];
  const seen = new Map<string, number[]>();
  for (const p of points) seen.set(pointLabel(p), key(p));
  const cmp = (a: number[], b: number[]): number => { for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number); return 0; };
  return [...seen.entries()].sort((a, b) => cmp(a[1], b[1])).map(([l]) => l);
}
