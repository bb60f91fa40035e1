import { BadInputError } from '../errors';
import type { LoadedProfile } from './profileLoad';
import { formatProfileIssues } from './profileLoad';
import { profileSchema } from './profileSchema';

/** What `meshbench run` may override from the command line: a shortened run of a shipped profile. */
export interface ProfileOverrides {
  /** Clean repetitions (profile `repetitions`). */
  readonly repetitions?: string;
  /** Measured window per step (profile `duration`, e.g. "3s"). */
  readonly duration?: string;
  /** Warm-up per step (profile `warmup`). */
  readonly warmup?: string;
}

/**
 * The profile with the overrides applied and validated by the same schema as the file (a bad value is one
 * BadInputError line naming the flag). The file's hash stays the file's; run.json's resolved profile shows the
 * values that ran.
 */
export function withOverrides(loaded: LoadedProfile, o: ProfileOverrides): LoadedProfile {
  const patch: Record<string, unknown> = {};
  if (o.repetitions !== undefined) patch.repetitions = /^\d+$/.test(o.repetitions) ? Number(o.repetitions) : o.repetitions;
  if (o.duration !== undefined) patch.duration = o.duration;
  if (o.warmup !== undefined) patch.warmup = o.warmup;
  if (Object.keys(patch).length === 0) return loaded;
  const raw = { ...loaded.profile, ...patch };
  const result = profileSchema.safeParse(raw);
  if (!result.success) throw new BadInputError(formatProfileIssues(`${loaded.file} with --${Object.keys(patch).join('/--')}`, result.error.issues, raw));
  return { ...loaded, profile: result.data };
}
