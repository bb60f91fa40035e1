import type { gateMetrics } from '../../harness/profile/profileSchema';
import type { StepRecord } from '../../harness/results/resultTypes';

export type GateMetric = (typeof gateMetrics)[number];

export interface GateThreshold {
  readonly metric: GateMetric;
  /** Which way is worse: "+5%" gates growth (latency, CPU), "-5%" gates shrinkage (throughput). */
  readonly worse: 'increase' | 'decrease';
  readonly limitPct: number;
  readonly text: string;
}

export function parseGate(metric: GateMetric, text: string): GateThreshold {
  const m = /^([+-])(\d+(?:\.\d+)?)%$/.exec(text);
  if (m === null) throw new Error(`gate ${metric}: "${text}" is not a signed percent`);
  return { metric, worse: m[1] === '+' ? 'increase' : 'decrease', limitPct: Number(m[2]), text };
}

export const metricUnits: Readonly<Record<GateMetric, string>> = {
  'latency.p50': 'µs', 'latency.p90': 'µs', 'latency.p99': 'µs', 'latency.p999': 'µs',
  'cpu.perRequest': 'µs/req', 'cpu.loadGenerator': 'µs/req', 'memory.peak': 'MiB', 'throughput.max': 'req/s',
};

const percentileOf: Partial<Record<GateMetric, string>> = { 'latency.p50': '50', 'latency.p90': '90', 'latency.p99': '99', 'latency.p999': '99.9' };

/** Whether a metric means anything for a step at all: throughput.max exists only for closed-loop (`qps: 0`) steps. */
export function metricApplies(step: StepRecord, metric: GateMetric): boolean {
  return metric !== 'throughput.max' || step.loadPoint.qps === 0;
}

/** Why a step that should have a metric (metricApplies) has none (metricValue is null): one phrase for a note. */
export function missingReason(step: StepRecord, metric: GateMetric): string {
  if (percentileOf[metric] !== undefined) return 'no successful request was recorded';
  if (metric === 'cpu.perRequest' || metric === 'memory.peak') {
    const field = metric === 'cpu.perRequest' ? 'cpuUsPerRequest' : 'memoryRssBytesPeak';
    const own = step.components.filter((c) => c.role !== 'dataplane');
    if (own.length === 0) return 'the step lists no components';
    const missing = own.filter((c) => step.resources[c.name] === undefined || step.resources[c.name]?.[field] === null).map((c) => c.name);
    return `${metric === 'cpu.perRequest' ? 'CPU' : 'peak memory'} of ${missing.join(', ')} was not measured`;
  }
  return 'this meshbench cannot compute it from the step';
}

/** The gated figure of one step, or null when the step does not measure it (throughput.max exists only for closed-loop steps). */
export function metricValue(step: StepRecord, metric: GateMetric): number | null {
  const p = percentileOf[metric];
  if (p !== undefined) return step.load.latency.count > 0 ? (step.load.latency.percentilesUs[p] ?? null) : null;
  // A `dataplane` component (eBPF programs) runs inside its hosts' CPU: counting it would count it twice.
  const resources = step.components.filter((c) => c.role !== 'dataplane').flatMap((c) => (step.resources[c.name] === undefined ? [] : [step.resources[c.name] as NonNullable<StepRecord['resources'][string]>]));
  switch (metric) {
    case 'cpu.perRequest':
      return resources.length === 0 || resources.some((r) => r.cpuUsPerRequest === null) ? null : resources.reduce((a, r) => a + (r.cpuUsPerRequest ?? 0), 0);
    case 'cpu.loadGenerator':
      // The load client's own user-space CPU: out of cpu.perRequest, gated only when a profile asks.
      return step.loadGenerator?.cpuUserUsPerRequest ?? null;
    case 'memory.peak': {
      // The kernel's peak where the step has one (meshbench ≥ 0.2), else the sampled RSS peak.
      const peak = (r: NonNullable<StepRecord['resources'][string]>): number | null => (r.memoryPeakBytes !== undefined ? r.memoryPeakBytes : r.memoryRssBytesPeak);
      return resources.length === 0 || resources.some((r) => peak(r) === null) ? null : resources.reduce((a, r) => a + (peak(r) ?? 0), 0) / 2 ** 20;
    }
    case 'throughput.max':
      return step.loadPoint.qps === 0 ? step.load.actualQps : null;
    default:
      return null;
  }
}
