import { percentShare, type DataPlaneName, type Profile } from '../profile/profileSchema';
import type { LoadPoint, MeasurementKind } from '../results/resultTypes';
import type { Placement } from './platformSession';
import { variantSuffix } from './calibrationVariants';
import type { QuietGateSettings } from './quietGate';
import type { RateSearchConfig } from './rateSearch';

export interface PlannedStep {
  readonly index: number;
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  readonly loadPoint: LoadPoint;
  /** Counted per measurement kind: clean repetitions 1..n and instrumented repetitions 1..m. */
  readonly repetition: number;
  /** clean (nothing of meshbench's attached), instrumented (probes, stacks, bpf_stats) or inline (both at once). */
  readonly measurement: MeasurementKind;
  /** A deployment is shared by consecutive steps with the same key. */
  readonly deploymentKey: string;
  /** A calibration variant of the baseline: the echo controls its server runs (see calibrationVariants.ts); absent for plain data planes. */
  readonly variant?: string;
  /** Set on the probes of a rate search (`load.search`): which probe, its window, and the wait for a quiet machine before it (absent: none). */
  readonly search?: { readonly probe: number; readonly durationUs: number; readonly config: RateSearchConfig; readonly quiet?: QuietGateSettings };
}

/**
 * How many repetitions a point gets: `min` first, then more (up to `max`) while the 95 % interval of its
 * median P99 is wider than ±`untilShare` of the median. A plain number n is {min: n, max: n, untilShare: null}.
 */
export interface RepetitionPolicy {
  readonly min: number;
  readonly max: number;
  /** 0.05 for `until: 5%`; null: a fixed count. */
  readonly untilShare: number | null;
}

/** The profile's repetitions as a policy. */
export function repetitionPolicy(profile: Pick<Profile, 'repetitions'>): RepetitionPolicy {
  const r = profile.repetitions;
  return typeof r === 'number' ? { min: r, max: r, untilShare: null } : { min: r.min, max: r.max, untilShare: percentShare(r.until) };
}

/** A round of the plan: one repetition of one measurement kind. */
interface Round {
  readonly measurement: MeasurementKind;
  readonly repetition: number;
}

/**
 * The rounds of a profile: with probes.mode separate (and probes on), the clean repetitions with the
 * instrumented ones spread evenly among them (instrumented round j after clean round ⌈j·R/(I+1)⌉), so
 * drift hits both kinds alike; with mode inline, or probes off, one kind only.
 */
export function measurementRounds(profile: Profile): Round[] {
  const r = repetitionPolicy(profile).min;
  if (!profile.probes.enabled) return Array.from({ length: r }, (_, i) => ({ measurement: 'clean' as const, repetition: i + 1 }));
  if (profile.probes.mode === 'inline') return Array.from({ length: r }, (_, i) => ({ measurement: 'inline' as const, repetition: i + 1 }));
  const n = profile.probes.instrumentedRepetitions;
  const rounds: Round[] = [];
  let next = 1;
  for (let c = 1; c <= r; c += 1) {
    rounds.push({ measurement: 'clean', repetition: c });
    while (next <= n && Math.ceil((next * r) / (n + 1)) <= c) rounds.push({ measurement: 'instrumented', repetition: next++ });
  }
  while (next <= n) rounds.push({ measurement: 'instrumented', repetition: next++ });
  return rounds;
}

export function loadPoints(profile: Profile): LoadPoint[] {
  const w = profile.workload;
  const points: LoadPoint[] = [];
  for (const payloadBytes of w.payloadBytes) {
    for (const connections of profile.load.connections) {
      for (const qps of profile.load.qps) points.push({ qps, connections, payloadBytes, keepAlive: w.keepAlive, protocol: w.protocol, streams: profile.load.streams });
    }
    if (profile.load.maxThroughput && !profile.load.qps.includes(0)) {
      points.push({ qps: 0, connections: Math.max(...profile.load.connections), payloadBytes, keepAlive: w.keepAlive, protocol: w.protocol, streams: profile.load.streams });
    }
  }
  return points;
}

/**
 * The order of steps. Baseline always comes first within a round, so every data plane has its reference
 * measured nearby. With `interleave`, each repetition visits every data plane in turn (ABAB…): drift over
 * the run hits all alike, at the price of one deployment per data plane per repetition. Without it, each
 * data plane is deployed once and all its points and repetitions run back to back.
 */
export function planSteps(profile: Profile): PlannedStep[] {
  const dataplanes = [...profile.dataplanes].sort((a, b) => (a === 'baseline' ? -1 : b === 'baseline' ? 1 : 0));
  const points = loadPoints(profile);
  const rounds = measurementRounds(profile);
  const steps: PlannedStep[] = [];
  const push = (dataplane: DataPlaneName, placement: Placement, loadPoint: LoadPoint, round: Round, deploymentKey: string): void => {
    steps.push({ index: steps.length + 1, dataplane, placement, loadPoint, repetition: round.repetition, measurement: round.measurement, deploymentKey });
  };
  if (profile.interleave && repetitionPolicy(profile).max > 1) {
    for (const [i, round] of rounds.entries()) {
      for (const placement of profile.placement) {
        for (const dp of dataplanes) for (const p of points) push(dp, placement, p, round, `${dp}|${placement}|${i + 1}`);
      }
    }
  } else {
    for (const placement of profile.placement) {
      for (const dp of dataplanes) {
        for (const p of points) for (const round of rounds) push(dp, placement, p, round, `${dp}|${placement}`);
      }
    }
  }
  return steps;
}

/** The plan without its instrumented steps, numbered again (a run whose probes cannot run). */
export function withoutInstrumented(plan: readonly PlannedStep[]): PlannedStep[] {
  return plan.filter((s) => s.measurement !== 'instrumented').map((s, i) => ({ ...s, index: i + 1 }));
}

export function stepId(s: PlannedStep): string {
  const p = s.loadPoint;
  const load = `${s.search === undefined ? '' : 'search-'}${p.qps === 0 ? 'max' : `${p.qps}qps`}`;
  // Instrumented repetitions are "-i<n>", so clean r1 and instrumented i1 never share a file name.
  return `${s.dataplane}${variantSuffix(s.variant)}-${s.placement}-${load}-c${p.connections}-${p.payloadBytes}b${p.keepAlive ? '' : '-newconn'}-${s.search !== undefined ? 'p' : s.measurement === 'instrumented' ? 'i' : 'r'}${s.repetition}`;
}
