import { BadInputError } from '../../harness/errors';
import { gateMetrics } from '../../harness/profile/profileSchema';
import type { LoadedRun } from '../../harness/results/resultsStore';
import { isHeadlineStep, type RunRecord, type StepRecord } from '../../harness/results/resultTypes';
import { spread } from '../../harness/results/summarise';
import { orderDataPlanes } from '../charts/chartTypes';
import { loadLabel } from '../stepRows';
import { medianDifferenceInterval, type ConfidenceInterval } from '../../harness/results/stats/bootstrap';
import { cliffsDelta, type CliffsDelta } from '../../harness/results/stats/cliffsDelta';
import { detectableChange, detectablePower } from '../../harness/results/stats/detectableChange';
import { exactMaxTotal, mannWhitneyGreater } from '../../harness/results/stats/mannWhitney';
import { seedFrom, seededRandom } from '../../harness/results/stats/seededRandom';
import { metricApplies, metricValue, missingReason, parseGate, type GateMetric, type GateThreshold } from './gateMetrics';

export const compareTestName = `Mann–Whitney U, one-sided, of head against base shifted by the gate's allowance (exact permutation p with ties up to ${exactMaxTotal} repetitions in all, else the normal approximation)`;

/** `not measured`: the gated metric could not be computed on one side (or both); the row stays, with the reason in `missing`. */
export type RowVerdict = 'regression' | 'not significant' | 'improved' | 'pass' | 'not measured';

export interface CompareRow {
  readonly dataplane: string;
  readonly placement: string;
  readonly load: string;
  readonly metric: GateMetric;
  readonly gate: string;
  readonly baseValues: readonly number[];
  readonly headValues: readonly number[];
  /** Medians over repetitions; null on a side that did not measure the metric. */
  readonly baseMedian: number | null;
  readonly headMedian: number | null;
  /** (head median − base median) / base median, in %; null when not measured. */
  readonly changePct: number | null;
  /** One-sided p-value that head is worse than base; null when the sample sizes cannot reach α (then the threshold alone decides) or the metric was not measured. */
  readonly pValue: number | null;
  /** Cliff's δ of head over base (raw values; positive = head larger), with Romano et al.'s magnitude; null when not measured. */
  readonly effect: CliffsDelta | null;
  /** 95 % percentile-bootstrap interval of changePct (each side resampled on its own); null with fewer than 2 repetitions a side. */
  readonly changeInterval: ConfidenceInterval | null;
  /** The smallest regression (% of the base median, worse direction) this check flags with 80 % probability given the measured noise; null when the test cannot reach α. */
  readonly detectableChangePct: number | null;
  /** The pooled noise of both sides, % of the base median. */
  readonly noisePct: number | null;
  readonly verdict: RowVerdict;
  /** Why the row is `not measured` (which side, which reason); null otherwise. */
  readonly missing: string | null;
}

/** Per gated metric: the largest minimum detectable change over its checks, so "no regression" says what could hide. */
export interface DetectableSummary {
  readonly metric: GateMetric;
  /** Which way a regression of this metric goes (from its gate). */
  readonly worse: GateThreshold['worse'];
  readonly checks: number;
  /** The largest minimum detectable change over the checks that have one (%), and where; null when none has. */
  readonly worstPct: number | null;
  readonly worstAt: string | null;
  readonly medianPct: number | null;
  /** Checks whose repetitions are too few for the test to reach α: there the threshold alone decides. */
  readonly thresholdOnly: number;
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
  /** One line per gated metric: how large a regression could have gone unseen. */
  readonly detectable: readonly DetectableSummary[];
  /** Comparisons made despite a refusal (--force), and anything a reader should know. */
  readonly notes: readonly string[];
}

export interface CompareOptions {
  readonly force?: boolean;
  readonly alpha?: number;
  /** Compare what both runs measured when a data plane or load point is in one run only (else BadInputError, exit 2). */
  readonly allowMissing?: boolean;
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
  // A calibration variant of the baseline is its own group, never mixed with the plain baseline.
  return `${s.dataplane}${s.variant === undefined ? '' : `+${s.variant}`}|${s.placement}|${loadLabel(s.loadPoint)}|${s.loadPoint.payloadBytes}|${s.loadPoint.keepAlive}|${s.loadPoint.protocol}`;
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
 * repetitions for the test to ever reach α, the threshold alone decides and a note says so. Beside
 * every p: Cliff's δ, a 95 % bootstrap interval of the change, and the minimum detectable change.
 * A gated metric that cannot be computed on a side is a `not measured` row and a note, never a missing row.
 * Refuses (BadInputError, exit 2) runs of different profiles or machines unless forced, and runs where
 * a data plane × load point was measured on one side only unless `allowMissing`.
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
  if (base.run.runId === head.run.runId) {
    // Every change is then 0 by construction: the output must not read as evidence about a change.
    notes.push(`base and head are the same run (${base.run.runId}): every change is 0 by construction, so this checks the gates' plumbing, not a change`);
  }
  if (base.steps.length === 0) throw new BadInputError(`${base.dir}: no finished steps to compare`);
  if (head.steps.length === 0) throw new BadInputError(`${head.dir}: no finished steps to compare`);
  const gatesText = head.run.profile.resolved.gates;
  const gates = gateMetrics.filter((m) => gatesText[m] !== undefined).map((m) => parseGate(m, gatesText[m] as string));
  if (gates.length === 0) throw new BadInputError(`${head.dir}: profile "${head.run.profile.name}" has no gates`, 'add gates (e.g. latency.p99: "+5%") to the profile');
  for (const [name, r] of [['base', base.run], ['head', head.run]] as const) if (r.status !== 'complete') notes.push(`${name} run is ${r.status}${r.statusReason === null ? '' : ` (${r.statusReason})`}: only its finished steps are compared`);

  const baseGroups = groupSteps(base.steps);
  const headGroups = groupSteps(head.steps);
  const oneSided: string[] = [];
  for (const [key, steps] of headGroups) if (!baseGroups.has(key)) oneSided.push(`${describe(steps[0] as StepRecord)} is only in head`);
  for (const [key, steps] of baseGroups) if (!headGroups.has(key)) oneSided.push(`${describe(steps[0] as StepRecord)} is missing in head`);
  if (oneSided.length > 0) {
    if (o.allowMissing !== true) throw new BadInputError(`${base.dir} and ${head.dir} did not measure the same data planes: ${oneSided.join('; ')}`, 'a gate that skips a data plane passes blind: rerun the missing side, or pass --allow-missing to compare what both measured');
    notes.push(...oneSided.map((m) => `${m}: not compared (--allow-missing)`));
  }
  const rows: CompareRow[] = [];
  let thresholdOnly = false;
  for (const [key, headSteps] of headGroups) {
    const baseSteps = baseGroups.get(key);
    const first = headSteps[0] as StepRecord;
    if (baseSteps === undefined) continue;
    for (const gate of gates) {
      const side = (steps: readonly StepRecord[]): { values: number[]; applicable: number; gaps: string[] } => {
        const applicable = steps.filter((s) => metricApplies(s, gate.metric));
        const values = applicable.map((s) => metricValue(s, gate.metric)).filter((v): v is number => v !== null);
        const gaps = [...new Set(applicable.filter((s) => metricValue(s, gate.metric) === null).map((s) => missingReason(s, gate.metric)))];
        return { values, applicable: applicable.length, gaps };
      };
      const bs = side(baseSteps);
      const hs = side(headSteps);
      if (bs.applicable === 0 && hs.applicable === 0) continue; // e.g. throughput.max at a fixed-rate point: not a check
      const id = { dataplane: first.dataplane, placement: first.placement, load: loadLabel(first.loadPoint), metric: gate.metric, gate: gate.text };
      const b = bs.values;
      const h = hs.values;
      if (b.length === 0 || h.length === 0) {
        const why = [...(b.length === 0 ? [`base: ${bs.gaps.join('; ') || 'no step measured it'}`] : []), ...(h.length === 0 ? [`head: ${hs.gaps.join('; ') || 'no step measured it'}`] : [])].join(', ');
        notes.push(`${first.dataplane} at ${pointText(first)}: ${gate.metric} not measured (${why})`);
        rows.push({
          ...id, baseValues: b, headValues: h, baseMedian: b.length === 0 ? null : spread(b).median, headMedian: h.length === 0 ? null : spread(h).median, changePct: null,
          pValue: null, effect: null, changeInterval: null, detectableChangePct: null, noisePct: null, verdict: 'not measured', missing: why,
        });
        continue;
      }
      for (const [name, sd, n] of [['base', bs, baseSteps.length], ['head', hs, headSteps.length]] as const) {
        if (sd.values.length < sd.applicable) notes.push(`${first.dataplane} at ${pointText(first)}: ${gate.metric} measured in ${sd.values.length} of ${n} ${name} repetitions (${sd.gaps.join('; ')})`);
      }
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
      const mdc = detectableChange(b, h, gate.limitPct, alpha);
      rows.push({
        ...id, baseValues: b, headValues: h, baseMedian, headMedian, changePct, pValue,
        effect: cliffsDelta(h, b),
        changeInterval: medianDifferenceInterval(b, h, { random: seededRandom(seedFrom(`${key}|${gate.metric}`)), relative: true }),
        detectableChangePct: mdc.pct, noisePct: mdc.noisePct,
        verdict: rowVerdict(gate, changePct, pValue, betterP, alpha), missing: null,
      });
    }
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
    detectable: detectableSummaries(rows, gates),
    notes,
  };
}

function pointText(s: StepRecord): string {
  return `${loadLabel(s.loadPoint)}${s.placement === 'same-node' ? ', same node' : ''}`;
}

function describe(s: StepRecord): string {
  return `${s.dataplane} at ${pointText(s)}`;
}

function detectableSummaries(rows: readonly CompareRow[], gates: readonly GateThreshold[]): DetectableSummary[] {
  return gates.flatMap(({ metric, worse }) => {
    const checks = rows.filter((r) => r.metric === metric && r.verdict !== 'not measured');
    if (checks.length === 0) return [];
    const withMdc = checks.filter((r) => r.detectableChangePct !== null).sort((a, b) => (b.detectableChangePct as number) - (a.detectableChangePct as number));
    const worst = withMdc[0];
    return [{
      metric,
      worse,
      checks: checks.length,
      worstPct: worst?.detectableChangePct ?? null,
      worstAt: worst === undefined ? null : `${worst.dataplane} at ${worst.load}${worst.placement === 'same-node' ? ', same node' : ''}`,
      medianPct: withMdc.length === 0 ? null : spread(withMdc.map((r) => r.detectableChangePct as number)).median,
      thresholdOnly: checks.length - withMdc.length,
    }];
  });
}

/** The power the minimum detectable change is stated at (80 %, the usual convention). */
export const detectableChangePower = detectablePower;
