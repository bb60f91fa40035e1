import { parseCalibrationControl } from '../profile/calibrationControl';
import type { Profile } from '../profile/profileSchema';
import type { PlannedStep } from './stepPlan';

/*
 * Calibration variants (profile `calibration:`): the baseline again, with the echo server doing a known amount
 * of work per request. Each plain baseline step is followed by one step per control at the same load point,
 * repetition and measurement kind, each on its own deployment (the server's flags differ), so drift hits the
 * plain baseline and its variants alike and every variant pairs with the plain baseline of its repetition.
 */

/** "+burn200us" for a variant's step id and labels; "" for a plain step. */
export function variantSuffix(variant: string | undefined): string {
  return variant === undefined ? '' : `+${parseCalibrationControl(variant).name}`;
}

/**
 * The plan with the calibration variants inserted after each run of consecutive plain baseline steps on one
 * deployment (the same steps again, once per control, each control on a deployment of its own), numbered
 * again; the plan itself without `calibration`.
 */
export function withCalibrationVariants(plan: readonly PlannedStep[], profile: Profile): PlannedStep[] {
  const controls = profile.calibration ?? [];
  if (controls.length === 0) return [...plan];
  const out: PlannedStep[] = [];
  let run: PlannedStep[] = [];
  const flush = (): void => {
    for (const variant of controls) for (const s of run) out.push({ ...s, variant, deploymentKey: `${s.deploymentKey}|${variant}` });
    run = [];
  };
  for (const step of plan) {
    const plainBaseline = step.dataplane === 'baseline' && step.variant === undefined;
    if (run.length > 0 && (!plainBaseline || (run[0] as PlannedStep).deploymentKey !== step.deploymentKey)) flush();
    out.push(step);
    if (plainBaseline) run.push(step);
  }
  flush();
  return out.map((s, i) => ({ ...s, index: i + 1 }));
}

/** The profile a variant's deployment sees: its controls added to the echo server's defaults (`workload.serverControls`). */
export function profileForVariant(profile: Profile, variant: string | undefined): Profile {
  if (variant === undefined) return profile;
  const controls = profile.workload.serverControls === '' ? variant : `${profile.workload.serverControls}&${variant}`;
  return { ...profile, workload: { ...profile.workload, serverControls: controls } };
}
