import type { Profile } from '../profile/profileSchema';
import { repetitionPolicy } from '../runner/stepPlan';
import { withRepetitionVerdicts } from './repetitionVerdict';
import type { StepRecord } from './resultTypes';
import { withSearches } from './searchSummary';
import type { SummaryRecord } from './summaryTypes';

/**
 * Pure: the summary with what needs the profile besides the steps: the repetition verdicts of
 * `repetitions: {min, max, until}` and the rate searches of `load.search`. The runner and `meshbench report`
 * both call it, so summary.json and the report agree.
 */
export function withRunAdditions(summary: SummaryRecord, steps: readonly StepRecord[], profile: Pick<Profile, 'repetitions'>): SummaryRecord {
  return withSearches(withRepetitionVerdicts(summary, repetitionPolicy(profile)), steps);
}
