import type { DataPlaneName } from '../profile/profileSchema';
import type { BreakdownCategory, ComponentRole, OverheadBreakdown, ProbeFigures, StepRecord } from '../results/resultTypes';
import { breakdownCategories, explainedCategories } from '../results/resultTypes';
import { classifyFolded, type StackCategory } from './stackClassifier';

/** What the breakdown needs of one component in one step. */
export interface ComponentCost {
  readonly role: ComponentRole;
  readonly cpuUsPerRequest: number;
  /** Folded stacks sampled in this component's cgroup; empty when sampling was off. */
  readonly foldedStacks: string;
  readonly figures: ProbeFigures | null;
  /** Bytes sent plus received through Unix sockets over the probe session (see unixSocketBytes); absent: 0. */
  readonly unixSocketBytes?: number;
}

/**
 * The requests the probes saw: the bytes the client received over TCP in the probe session ÷ the bytes of one
 * reply. The probe session counts from a little after the load client's window begins, so dividing its counts
 * by the window's requestsCompleted reads them low (0.4–3.8 % in the calibration runs of the README). Used
 * when every reply has the same size on the wire: HTTP/1.1 keep-alive (HTTP/2 and gRPC frames, and the
 * handshakes of new connections, add bytes no reply counts). Falls back to requestsCompleted without a client
 * figure or a reply size, or when the quotient exceeds the window's requests by more than 5 % (replies of
 * other sizes, error pages, were in the session).
 */
export function probedRequests(step: StepRecord): number {
  // Results written before the load client reported reply sizes have no responseBytes: the window's count.
  const load = step.load as Partial<StepRecord['load']>;
  const reply = load.responseBytes?.Avg ?? 0;
  const client = step.components.find((c) => c.role === 'client');
  const received = client === undefined ? undefined : step.probes.figures[client.name]?.bytesReceived;
  if (received === undefined || !(received > 0) || !(reply > 0) || load.options?.keepAlive !== true || step.loadPoint.protocol !== 'http') return step.load.requestsCompleted;
  const seen = received / reply;
  return seen > 1.05 * step.load.requestsCompleted ? step.load.requestsCompleted : seen;
}

/**
 * Bytes a component sent plus received through Unix sockets in the probe session (the copy probe's
 * sock_send_length/sock_recv_length by family, in the step's probe detail); 0 when the detail lacks them.
 * ProbeFigures' bytesSent/bytesReceived are TCP only, so without these a socket pair's traffic (the echo
 * server's `copies` control, a proxy's local IPC) would be missing from the breakdown's bytes per request.
 */
export function unixSocketBytes(step: StepRecord, component: string): number {
  const d = step.probes.detail[component] as { bytesSentUnix?: unknown; bytesReceivedUnix?: unknown } | undefined;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return n(d?.bytesSentUnix) + n(d?.bytesReceivedUnix);
}

export type StepCosts = Readonly<Record<string, ComponentCost>>;

const zero = (): Record<BreakdownCategory, number> => Object.fromEntries(breakdownCategories.map((c) => [c, 0])) as Record<BreakdownCategory, number>;

/** A stack category in a component of this role → its breakdown category (user space is the proxy's or the application's). */
export function toBreakdownCategory(c: StackCategory, role: ComponentRole): BreakdownCategory {
  if (c === 'userspace') return role === 'proxy' ? 'proxy-userspace' : 'application';
  return c;
}

/**
 * The components of a step whose CPU is their own (not the eBPF data plane's, whose run time is already inside
 * its hosts' CPU) and whose CPU per request was not measured (no cgroup figure, or no request to divide by).
 */
export function unmeasuredCpuComponents(step: StepRecord): string[] {
  return step.components.filter((c) => c.role !== 'dataplane' && (step.resources[c.name]?.cpuUsPerRequest ?? null) === null).map((c) => c.name);
}

/**
 * A step's CPU per request, folded stacks and probe figures per component, as the breakdown reads them: the
 * components whose CPU is their own (the eBPF data plane's run time is already inside its hosts' CPU). Null
 * when any of those components' CPU per request was not measured (unmeasuredCpuComponents names them): the
 * step has no breakdown then, since an unmeasured component counted as 0 µs would move the difference to the
 * other side (a sidecar proxy read as free). Callers leave such a step out and count it, as the summary's
 * cpuLeftOut does.
 */
export function stepCosts(step: StepRecord): StepCosts | null {
  const out: Record<string, StepCosts[string]> = {};
  for (const c of step.components) {
    if (c.role === 'dataplane') continue;
    const cpuUsPerRequest = step.resources[c.name]?.cpuUsPerRequest;
    if (cpuUsPerRequest === null || cpuUsPerRequest === undefined) return null;
    out[c.name] = {
      role: c.role,
      cpuUsPerRequest,
      foldedStacks: step.probes.foldedStacks[c.name] ?? '',
      figures: step.probes.figures[c.name] ?? null,
      unixSocketBytes: unixSocketBytes(step, c.name),
    };
  }
  return out;
}

/**
 * Splits each component's measured CPU per request across categories in proportion to its sampled
 * stacks; a component without samples is all "unexplained". The categories of a step therefore add up
 * exactly to its measured CPU per request, and the data plane's categories minus the baseline's add up
 * exactly to the measured extra CPU: the breakdown closes by construction, and "unexplained" is what
 * the rules could not name (or what was not sampled).
 */
export function splitStepCpu(costs: StepCosts): { total: Record<BreakdownCategory, number>; byComponent: Record<string, Record<BreakdownCategory, number>> } {
  const total = zero();
  const byComponent: Record<string, Record<BreakdownCategory, number>> = {};
  for (const [name, c] of Object.entries(costs)) {
    const split = zero();
    const counts = classifyFolded(c.foldedStacks);
    const samples = Object.values(counts).reduce((a, b) => a + b, 0);
    if (samples === 0) split.unexplained = c.cpuUsPerRequest;
    else {
      for (const [cat, n] of Object.entries(counts) as Array<[StackCategory, number]>) {
        split[toBreakdownCategory(cat, c.role)] += (c.cpuUsPerRequest * n) / samples;
      }
    }
    for (const cat of breakdownCategories) total[cat] += split[cat];
    byComponent[name] = split;
  }
  return { total, byComponent };
}

function sumFigure(costs: StepCosts, pick: (f: ProbeFigures, c: ComponentCost) => number): number | null {
  const values = Object.values(costs).map((c) => (c.figures === null ? null : pick(c.figures, c)));
  if (values.length === 0 || values.some((v) => v === null)) return null;
  return (values as number[]).reduce((a, b) => a + b, 0);
}

/**
 * Share of the movement the named categories account for: Σ|named| / Σ|every category but instrumentation|.
 * In 0–1 whatever the signs; 0 when nothing moved.
 */
export function explainedShareOf(byCategoryUs: Readonly<Record<BreakdownCategory, number>>): number {
  let named = 0;
  let all = 0;
  for (const cat of breakdownCategories) {
    if (cat === 'instrumentation') continue;
    const v = Math.abs(byCategoryUs[cat]);
    all += v;
    if (explainedCategories.includes(cat)) named += v;
  }
  return all === 0 ? 0 : named / all;
}

/**
 * The overhead of a data plane over the baseline at the same load point, per request.
 * `stepRequests`/`baselineRequests` divide the probe figures: the requests the probes saw (probedRequests),
 * not the window's, since the probes count over a slightly shorter session.
 */
export function overheadBreakdown(
  dataplane: DataPlaneName,
  step: StepCosts,
  stepRequests: number,
  baseline: StepCosts,
  baselineRequests: number,
): OverheadBreakdown {
  const d = splitStepCpu(step);
  const b = splitStepCpu(baseline);
  const byCategoryUs = zero();
  for (const cat of breakdownCategories) byCategoryUs[cat] = d.total[cat] - b.total[cat];
  const measuredExtra = Object.values(byCategoryUs).reduce((x, y) => x + y, 0);
  // meshbench's probes are not the mesh: their difference is reported, and left out of the mesh's extra.
  const extra = measuredExtra - byCategoryUs.instrumentation;
  // Per component: a component that exists only in the data plane (a proxy) is all extra; same-named
  // components (client, server) show their difference.
  const byComponentUs: Record<string, Partial<Record<BreakdownCategory, number>>> = {};
  for (const name of new Set([...Object.keys(d.byComponent), ...Object.keys(b.byComponent)])) {
    const mine = d.byComponent[name] ?? zero();
    const theirs = b.byComponent[name] ?? zero();
    const diff: Partial<Record<BreakdownCategory, number>> = {};
    for (const cat of breakdownCategories) {
      const v = mine[cat] - theirs[cat];
      if (v !== 0) diff[cat] = v;
    }
    byComponentUs[name] = diff;
  }
  const perRequest = (costs: StepCosts, requests: number, pick: (f: ProbeFigures, c: ComponentCost) => number): number | null => {
    const s = sumFigure(costs, pick);
    return s === null || requests <= 0 ? null : s / requests;
  };
  const delta = (pick: (f: ProbeFigures, c: ComponentCost) => number): number | null => {
    const x = perRequest(step, stepRequests, pick);
    const y = perRequest(baseline, baselineRequests, pick);
    return x === null || y === null ? null : x - y;
  };
  const sampled = Object.values(step).some((c) => c.foldedStacks !== '') && Object.values(baseline).some((c) => c.foldedStacks !== '');
  return {
    dataplane,
    versus: 'baseline',
    extraCpuUsPerRequest: extra,
    measuredExtraCpuUsPerRequest: measuredExtra,
    byCategoryUs,
    byComponentUs,
    explainedShare: explainedShareOf(byCategoryUs),
    method: sampled
      ? 'cgroup CPU per request split by cpu-clock stack samples per component, classified by kernel frame rules anchored on MeshInsight\'s frames; data plane minus baseline; meshbench\'s own probe frames (instrumentation) left out of the extra'
      : 'cgroup CPU per request only: no stack samples, so the whole difference is unexplained (enable probes.sampleHz)',
    // Every byte is counted where it is sent and where it is received, over TCP and Unix sockets.
    extraBytesCopiedPerRequest: delta((f, c) => f.bytesSent + f.bytesReceived + (c.unixSocketBytes ?? 0)),
    extraConnectionsPerRequest: delta((f) => f.connectionsOpened),
    extraContextSwitchesPerRequest: delta((f) => f.contextSwitchesVoluntary + f.contextSwitchesInvoluntary),
  };
}
