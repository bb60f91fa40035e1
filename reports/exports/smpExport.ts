import type { RunRecord, StepRecord } from '../../harness/results/resultTypes';
import { loadLabel } from '../stepRows';

/*
 * Service Mesh Performance (SMP, smp-spec.io) documents, the format Meshery reads: one
 * PerformanceTestResult per step and one PerformanceTestConfig per run (a client per load point).
 * Field names are SMP's proto names (see smpSchema.json beside this file for the origin).
 */

/** SMP's proto leaves smp_version free text; this is the one meshbench writes. */
export const smpVersion = 'v0.0.1';

/** Latency figures in ms; null when the step recorded no request (nothing measured, never 0). */
export interface SmpLatencyMs {
  min: number | null;
  average: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface SmpPerformanceTestResult {
  smp_version: string;
  id: string;
  labels: Record<string, string>;
  start_time: string;
  end_time: string;
  latencies_ms: SmpLatencyMs;
  /** Null when the load client measured no rate (a 0 s window). */
  actual_QPS: number | null;
  details_uri: string;
  testId: string;
  meshConfigId: string;
  envId: string;
}

export interface SmpClient {
  internal: boolean;
  load_generator: string;
  /** SMP's `Protocol` enum has http, tcp, udp and grpc: HTTP/2 without gRPC is `http` there. */
  protocol: 'http' | 'tcp' | 'grpc';
  connections: number;
  rps: number;
  endpoint_url: string[];
}

export interface SmpPerformanceTestConfig {
  smp_version: string;
  id: string;
  name: string;
  labels: Record<string, string>;
  clients: SmpClient[];
  duration: string;
}

/** µs to ms (3 decimals); null stays null (an empty histogram measured nothing). */
const ms = (us: number | null | undefined): number | null => (us === null || us === undefined ? null : Math.round(us) / 1000);

/** `detailsPath`: where the step's own record is, relative to the export (SMP's details_uri). */
export function smpResult(run: RunRecord, step: StepRecord, detailsPath: string): SmpPerformanceTestResult {
  const l = step.load.latency;
  return {
    smp_version: smpVersion,
    id: `${run.runId}/${step.id}`,
    labels: {
      tool: 'meshbench',
      profile: run.profile.name,
      dataplane: step.dataplane,
      placement: step.placement,
      load: loadLabel(step.loadPoint),
      repetition: String(step.repetition),
      payload_bytes: String(step.loadPoint.payloadBytes),
      keep_alive: String(step.loadPoint.keepAlive),
      requests_completed: String(step.load.requestsCompleted),
      requests_failed: String(step.load.requestsFailed),
      latency: 'coordinated-omission corrected',
    },
    start_time: step.startedAt,
    end_time: step.endedAt,
    latencies_ms: l.count === 0 ? { min: null, average: null, p50: null, p90: null, p99: null, max: null }
      : { min: ms(l.minUs), average: ms(l.meanUs), p50: ms(l.percentilesUs['50']), p90: ms(l.percentilesUs['90']), p99: ms(l.percentilesUs['99']), max: ms(l.maxUs) },
    actual_QPS: step.load.actualQps,
    details_uri: detailsPath,
    testId: run.runId,
    meshConfigId: `${run.profile.resolved.platform}/${step.dataplane}`,
    envId: run.machine.hostname,
  };
}

export function smpConfig(run: RunRecord, steps: readonly StepRecord[]): SmpPerformanceTestConfig {
  const seen = new Map<string, SmpClient>();
  for (const s of steps) {
    const key = `${s.loadPoint.protocol}|${s.loadPoint.qps}|${s.loadPoint.connections}|${s.load.options.url}`;
    if (!seen.has(key)) seen.set(key, { internal: true, load_generator: 'meshbench', protocol: s.loadPoint.protocol === 'http2' ? 'http' : s.loadPoint.protocol, connections: s.loadPoint.connections, rps: s.loadPoint.qps, endpoint_url: [s.load.options.url] });
  }
  return {
    smp_version: smpVersion,
    id: run.runId,
    name: run.profile.name,
    labels: { tool: 'meshbench', platform: run.profile.resolved.platform, dataplanes: run.profile.resolved.dataplanes.join(','), repetitions: repetitionsLabel(run.profile.resolved.repetitions) },
    clients: [...seen.values()],
    duration: run.profile.resolved.duration,
  };
}

/** `repetitions` as a label: "3", or "3-15 until 5%" for repetitions run until the answer is clear. */
function repetitionsLabel(r: RunRecord['profile']['resolved']['repetitions']): string {
  return typeof r === 'number' ? String(r) : `${r.min}-${r.max} until ${r.until}`;
}
