import type { DataPlaneName, Profile } from '../profile/profileSchema';
import { pointSettlement } from '../results/repetitionVerdict';
import type { MeasurementKind, StepRecord } from '../results/resultTypes';
import { groupKey } from '../results/summarise';
import { variantSuffix, withCalibrationVariants } from './calibrationVariants';
import { planSteps, repetitionPolicy, withoutInstrumented, type PlannedStep, type RepetitionPolicy } from './stepPlan';

/** What the planner reads of a finished step: where it was measured, how, and its P99. */
export type FinishedStep = Pick<StepRecord, 'dataplane' | 'placement' | 'loadPoint' | 'measurement' | 'search'> & { readonly load: { readonly latency: { readonly percentilesUs: Readonly<Record<string, number | null>> } } };

/**
 * The step plan, handed out in batches so repetitions can be added while the run goes (`repetitions:
 * {min, max, until}`). The first batches are the static plan with `min` repetitions (planSteps): with
 * `interleave`, all of it; without, one data plane × placement at a time (one deployment each). After a
 * batch, every point of it whose median P99 has not settled (repetitionVerdict.ts) and has fewer than
 * `max` repetitions gets one more headline repetition (a repetition that recorded no request has no P99 and
 * counts as no figure, never as 0 µs: it cannot settle a point); those extra repetitions form one round, in the
 * plan's order (baseline first), interleaved across data planes like the rounds before them (a new
 * deployment per data plane and round), or, without `interleave`, on the data plane's deployment still
 * standing. The loop ends when every point of the batch has settled or reached `max`. Instrumented
 * repetitions are not added: they feed the breakdown, not the headline figures. With a plain number of
 * repetitions the planner hands out exactly planSteps' plan. Pure: the runner passes the finished steps.
 */
export class StepPlanner {
  private readonly policy: RepetitionPolicy;
  private readonly blocks: PlannedStep[][];
  private readonly headlineKind: MeasurementKind;
  private block = -1;
  private nextIndex = 1;
  private handedOut = 0;
  private totalPlanned: number;
  /** Headline repetitions planned so far per point (groupKey). */
  private readonly repetitions = new Map<string, number>();

  constructor(private readonly profile: Profile, includeInstrumented: boolean) {
    this.policy = repetitionPolicy(profile);
    // Calibration variants (profile `calibration:`) follow each plain baseline run of steps, as planned statically.
    const all = withCalibrationVariants(planSteps(profile), profile);
    const plan = includeInstrumented ? all : withoutInstrumented(all);
    this.headlineKind = !profile.probes.enabled ? 'clean' : profile.probes.mode === 'inline' ? 'inline' : 'clean';
    this.totalPlanned = plan.length;
    const interleaved = profile.interleave && this.policy.max > 1;
    const blocks = new Map<string, PlannedStep[]>();
    for (const s of plan) {
      const k = interleaved ? 'all' : s.deploymentKey;
      blocks.set(k, [...(blocks.get(k) ?? []), s]);
    }
    this.blocks = [...blocks.values()];
  }

  /** Steps planned so far (the static plan plus every repetition added); grows as repetitions are added. */
  get planned(): number {
    return this.totalPlanned;
  }

  /** Steps handed out so far. */
  get handed(): number {
    return this.handedOut;
  }

  /**
   * The next steps to run, numbered on from the last ones handed out; [] when the plan has ended.
   * `finished`: every step finished so far (any order); `skip`: data planes that could not be deployed.
   */
  next(finished: readonly FinishedStep[], skip: ReadonlySet<DataPlaneName> = new Set()): PlannedStep[] {
    if (this.block >= 0) {
      const extra = this.extraRound(finished, skip);
      if (extra.length > 0) return this.handOut(extra);
    }
    this.block += 1;
    const steps = this.blocks[this.block];
    if (steps === undefined) return [];
    for (const s of steps) if (s.measurement !== 'instrumented') this.repetitions.set(groupKey(s), (this.repetitions.get(groupKey(s)) ?? 0) + 1);
    return this.handOut(steps);
  }

  private handOut(steps: readonly PlannedStep[]): PlannedStep[] {
    const out = steps.map((s) => ({ ...s, index: this.nextIndex++ }));
    this.handedOut += out.length;
    return out;
  }

  /** One more headline repetition for each point of the current batch that has not settled and is below max. */
  private extraRound(finished: readonly FinishedStep[], skip: ReadonlySet<DataPlaneName>): PlannedStep[] {
    const until = this.policy.untilShare;
    if (until === null) return [];
    const batch = this.blocks[this.block] ?? [];
    // Per point: how many headline repetitions finished, and the P99s of those that recorded a request. A
    // repetition without one has no P99 (null, never 0 µs: two empty repetitions read as an interval of width 0
    // around 0 µs and "settled" the point): it finished, but adds nothing that could make the interval tight.
    const done = new Map<string, number>();
    const p99 = new Map<string, number[]>();
    for (const s of finished) {
      if (s.measurement === 'instrumented' || s.search !== undefined) continue;
      const k = groupKey(s);
      done.set(k, (done.get(k) ?? 0) + 1);
      const v = s.load.latency.percentilesUs['99'] ?? null;
      if (v !== null) p99.set(k, [...(p99.get(k) ?? []), v]);
    }
    const seen = new Set<string>();
    const extra: PlannedStep[] = [];
    for (const s of batch) {
      const k = groupKey(s);
      if (s.measurement === 'instrumented' || seen.has(k) || skip.has(s.dataplane)) continue;
      seen.add(k);
      const planned = this.repetitions.get(k) ?? 0;
      if (planned >= this.policy.max) continue;
      const values = p99.get(k) ?? [];
      // A point whose planned repetitions did not all finish (interrupted) gets no more.
      if ((done.get(k) ?? 0) < planned) continue;
      if (pointSettlement(values, s, this.policy.min, until).settled) continue;
      const repetition = planned + 1;
      this.repetitions.set(k, repetition);
      const interleaved = this.profile.interleave && this.policy.max > 1;
      extra.push({
        ...s, measurement: this.headlineKind, repetition,
        deploymentKey: interleaved ? `${s.dataplane}${variantSuffix(s.variant)}|${s.placement}|x${repetition}` : s.deploymentKey,
      });
    }
    this.totalPlanned += extra.length;
    return extra;
  }
}
