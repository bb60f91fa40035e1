import { BadInputError } from '../../harness/errors';
import { gateMetrics } from '../../harness/profile/profileSchema';
import type { LoadedRun } from '../../harness/results/resultsStore';
import { isHeadlineStep, type RunRecord, type StepRecord } from '../../harness/results/resultTypes';
import { spread } from '../../harness/results/summarise';
import { orderDataPlanes } from '../charts/chartTypes';
import { loadLabel } from '../stepRows';
import { metricValue, parseGate, type GateMetric, type GateThreshold } from './gateMetrics';
import { mannWhitneyGreater } from './mannWhitney';

export const compareTestName = 'Mann–Whitney U, one-sided, of head against base shifted by the gate\'s allowance (exact for small samples without ties)';

export type RowVerdict = 'regression' | 'not significant' | 'improved' | 'pass';

export interface CompareRow {
  readonly dataplane: string;
  readonly placement: string;
  readonly load: string;
  readonly metric: GateMetric;
  readonly gate: string;
  readonly baseValues: readonly number[];
  readonly headValues: readonly number[];
  readonly baseMedian: number;
  readonly headMedian: number;
  /** (head median − base median) / base median, in %. */
  readonly changePct: number;
  /** One-sided p-value that head is worse than base; null when the sample sizes cannot reach α (then the threshold alone decides). */
  readonly pValue: number | null;
  readonly verdict: RowVerdict;
}

export interface RunIdentity {
  readonly runId: string;
  readonly profile: string;
  readonly profileHash: string;
  readonly gitCommit: string | null;
  readonly hostname: string;
  readonly startedAt: string;
  readonly status: RunRecord['status'];
}

export interface CompareVerdict {
  readonly kind: 'meshbench-compare';
  readonly schemaVersion: 1;
  readonly verdict: 'pass' | 'regression';
  readonly test: string;
  readonly alpha: number;
  readonly base: RunIdentity;
  readonly head: RunIdentity;
  readonly gates: Readonly<Record<string, string>>;
  readonly rows: readonly CompareRow[];
  /** Comparisons made despite a refusal (--force), and anything a reader should know. */
  readonly notes: readonly string[];
}

export interface CompareOptions {
  readonly force?: boolean;
  readonly alpha?: number;
}

export function runIdentity(run: RunRecord): RunIdentity {
  return {
    runId: run.runId, profile: run.profile.name, profileHash: run.profile.hash, gitCommit: run.versions.gitCommit ?? null,
    hostname: run.machine.hostname, startedAt: run.startedAt, status: run.status,
  };
}

/**
 * Why two runs should not be compared (different profile, or different hardware: CPU model, CPU count,
 * platform); empty when they can be. The host name alone is not a different machine: CI runners are
 * fresh VMs with new names on the same hardware class (see hostNote).
 */
export function comparabilityProblems(base: RunRecord, head: RunRecord): string[] {
  const problems: string[] = [];
  if (base.profile.name !== head.profile.name) problems.push(`different profiles: base ran "${base.profile.name}", head ran "${head.profile.name}"`);
  else if (base.profile.hash !== head.profile.hash) problems.push(`profile "${head.profile.name}" differs between the runs (sha256 ${base.profile.hash.slice(0, 12)} vs ${head.profile.hash.slice(0, 12)})`);
  const mb = base.machine;
  const mh = head.machine;
  const machine: string[] = [];
  if (mb.cpuModel !== mh.cpuModel) machine.push(`CPU ${mb.cpuModel} vs ${mh.cpuModel}`);
  if (mb.cpus !== mh.cpus) machine.push(`${mb.cpus} vs ${mh.cpus} CPUs`);
  if (base.profile.resolved.platform !== head.profile.resolved.platform) machine.push(`platform ${base.profile.resolved.platform} vs ${head.profile.resolved.platform}`);
  if (machine.length > 0) problems.push(`different machines: ${machine.join(', ')}${mb.hostname === mh.hostname ? '' : ` (hosts ${mb.hostname} and ${mh.hostname})`}`);
  return problems;
}

export function hostNote(base: RunRecord, head: RunRecord): string | null {
  return base.machine.hostname === head.machine.hostname ? null : `different hosts with the same hardware (${base.machine.hostname}, ${head.machine.hostname}): fine for CI runners of one kind, noisier than one machine`;
}

function groupKey(s: StepRecord): string {
  return `${s.dataplane}|${s.placement}|${loadLabel(s.loadPoint)}|${s.loadPoint.payloadBytes}|${s.loadPoint.keepAlive}|${s.loadPoint.protocol}`;
}

function groupSteps(steps: readonly StepRecord[]): Map<string, StepRecord[]> {
  const m = new Map<string, StepRecord[]>();
  // Instrumented repetitions carry the probes' cost: gates compare the clean (headline) ones only.
  for (const s of steps) if (isHeadlineStep(s)) m.set(groupKey(s), [...(m.get(groupKey(s)) ?? []), s]);
  return m;
}

/** `betterP`: the same test in the other direction (head better than base by more than the allowance). */
function rowVerdict(gate: GateThreshold, changePct: number, pValue: number | null, betterP: number | null, alpha: number): RowVerdict {
  const worsePct = gate.worse === 'increase' ? changePct : -changePct;
  if (worsePct > gate.limitPct) return pValue === null || pValue <= alpha ? 'regression' : 'not significant';
  if (worsePct < -gate.limitPct && (betterP === null || betterP <= alpha)) return 'improved';
  return 'pass';
}

/**
 * Per data plane × load point × gated metric: the change of the median from base to head, and a
 * one-sided Mann–Whitney U test over the repetitions of head against base shifted by the gate's
 * allowance (a non-inferiority test). A row is a regression when the median change passes the gate's
 * threshold AND the test says head is worse by more than the allowance (p ≤ α); with too few
 * repetitions for the test to ever reach α, the threshold alone decides and a note says so.
 * Refuses (BadInputError) runs of different profiles or machines unless forced.
 */
export function compareRuns(base: LoadedRun, head: LoadedRun, o: CompareOptions = {}): CompareVerdict {
  const alpha = o.alpha ?? 0.05;
  const notes: string[] = [];
  const problems = comparabilityProblems(base.run, head.run);
  if (problems.length > 0) {
    if (o.force !== true) throw new BadInputError(`refusing to compare ${base.dir} with ${head.dir}: ${problems.join('; ')}`, 'compare runs of the same profile on the same machine, or pass --force');
    notes.push(...problems.map((p) => `forced: ${p}`));
  }
  const host = hostNote(base.run, head.run);
  if (host !== null) notes.push(host);
  if (base.steps.length === 0) throw new BadInputError(`${base.dir}: no finished steps to compare`);
  if (head.steps.length === 0) throw new BadInputError(`${head.dir}: no finished steps to compare`);
  const gatesText = head.run.profile.resolved.gates;
  const gates = gateMetrics.filter((m) => gatesText[m] !== undefined).map((m) => parseGate(m, gatesText[m] as string));
  if (gates.length === 0) throw new BadInputError(`${head.dir}: profile "${head.run.profile.name}" has no gates`, 'add gates (e.g. latency.p99: "+5%") to the profile');
  for (const [name, r] of [['base', base.run], ['head', head.run]] as const) if (r.status !== 'complete') notes.push(`${name} run is ${r.status}${r.statusReason === null ? '' : ` (${r.statusReason})`}: only its finished steps are compared`);

  const baseGroups = groupSteps(base.steps);
  const headGroups = groupSteps(head.steps);
  const rows: CompareRow[] = [];
  let thresholdOnly = false;
  for (const [key, headSteps] of headGroups) {
    const baseSteps = baseGroups.get(key);
    const first = headSteps[0] as StepRecord;
    if (baseSteps === undefined) {
      notes.push(`${first.dataplane} at ${loadLabel(first.loadPoint)} is only in head: not compared`);
      continue;
    }
    for (const gate of gates) {
      const pick = (steps: readonly StepRecord[]): number[] => steps.map((s) => metricValue(s, gate.metric)).filter((v): v is number => v !== null);
      const b = pick(baseSteps);
      const h = pick(headSteps);
      if (b.length === 0 || h.length === 0) continue;
      const baseMedian = spread(b).median;
      const headMedian = spread(h).median;
      const changePct = baseMedian === 0 ? 0 : (100 * (headMedian - baseMedian)) / baseMedian;
      // Non-inferiority: the test asks whether head is worse than base moved by the whole allowance,
      // so drift within the gate cannot fail a check however many repetitions there are.
      const allowance = gate.limitPct / 100;
      const test = gate.worse === 'increase' ? mannWhitneyGreater(h, b.map((x) => x * (1 + allowance))) : mannWhitneyGreater(b.map((x) => x * (1 - allowance)), h);
      const better = gate.worse === 'increase' ? mannWhitneyGreater(b.map((x) => x * (1 - allowance)), h) : mannWhitneyGreater(h, b.map((x) => x * (1 + allowance)));
      const pValue = test.minPValue > alpha ? null : test.pValue;
      const betterP = better.minPValue > alpha ? null : better.pValue;
      if (pValue === null) thresholdOnly = true;
      rows.push({
        dataplane: first.dataplane, placement: first.placement, load: loadLabel(first.loadPoint), metric: gate.metric, gate: gate.text,
        baseValues: b, headValues: h, baseMedian, headMedian, changePct, pValue, verdict: rowVerdict(gate, changePct, pValue, betterP, alpha),
      });
    }
  }
  for (const [key, baseSteps] of baseGroups) {
    const first = baseSteps[0] as StepRecord;
    if (!headGroups.has(key)) notes.push(`${first.dataplane} at ${loadLabel(first.loadPoint)} is missing in head: not compared`);
  }
  if (thresholdOnly) notes.push(`some points have too few repetitions for the test to reach α = ${alpha} (3 + 3 is the least); there the threshold alone decides`);
  if (rows.length === 0) throw new BadInputError(`nothing to compare: ${base.dir} and ${head.dir} share no data plane and load point with a gated metric`);
  const order = orderDataPlanes(rows.map((r) => r.dataplane));
  rows.sort((a, b) => order.indexOf(a.dataplane) - order.indexOf(b.dataplane) || a.load.localeCompare(b.load) || gateMetrics.indexOf(a.metric) - gateMetrics.indexOf(b.metric));
  return {
    kind: 'meshbench-compare',
    schemaVersion: 1,
    verdict: rows.some((r) => r.verdict === 'regression') ? 'regression' : 'pass',
    test: compareTestName,
    alpha,
    base: runIdentity(base.run),
    head: runIdentity(head.run),
    gates: Object.fromEntries(gates.map((g) => [g.metric, g.text])),
    rows,
    notes,
  };
}
