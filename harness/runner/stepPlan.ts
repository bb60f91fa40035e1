import type { DataPlaneName, Profile } from '../profile/profileSchema';
import type { LoadPoint } from '../results/resultTypes';
import type { Placement } from './platformSession';

export interface PlannedStep {
  readonly index: number;
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  readonly loadPoint: LoadPoint;
  readonly repetition: number;
  /** A deployment is shared by consecutive steps with the same key. */
  readonly deploymentKey: string;
}

export function loadPoints(profile: Profile): LoadPoint[] {
  const w = profile.workload;
  const points: LoadPoint[] = [];
  for (const payloadBytes of w.payloadBytes) {
    for (const connections of profile.load.connections) {
      for (const qps of profile.load.qps) points.push({ qps, connections, payloadBytes, keepAlive: w.keepAlive, protocol: w.protocol });
    }
    if (profile.load.maxThroughput && !profile.load.qps.includes(0)) {
      points.push({ qps: 0, connections: Math.max(...profile.load.connections), payloadBytes, keepAlive: w.keepAlive, protocol: w.protocol });
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
  const steps: PlannedStep[] = [];
  const push = (dataplane: DataPlaneName, placement: Placement, loadPoint: LoadPoint, repetition: number, deploymentKey: string): void => {
    steps.push({ index: steps.length + 1, dataplane, placement, loadPoint, repetition, deploymentKey });
  };
  if (profile.interleave && profile.repetitions > 1) {
    for (let rep = 1; rep <= profile.repetitions; rep += 1) {
      for (const placement of profile.placement) {
        for (const dp of dataplanes) for (const p of points) push(dp, placement, p, rep, `${dp}|${placement}|${rep}`);
      }
    }
  } else {
    for (const placement of profile.placement) {
      for (const dp of dataplanes) {
        for (const p of points) for (let rep = 1; rep <= profile.repetitions; rep += 1) push(dp, placement, p, rep, `${dp}|${placement}`);
      }
    }
  }
  return steps;
}

export function stepId(s: PlannedStep): string {
  const p = s.loadPoint;
  const load = p.qps === 0 ? 'max' : `${p.qps}qps`;
  return `${s.dataplane}-${s.placement}-${load}-c${p.connections}-${p.payloadBytes}b${p.keepAlive ? '' : '-newconn'}-r${s.repetition}`;
}
