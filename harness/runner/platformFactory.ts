import type { Profile } from '../profile/profileSchema';
import { EnvironmentError } from '../errors';
import type { PlatformSession, ProbeProvider } from './platformSession';

/** The platform a profile names. */
export async function openPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  void runId;
  throw new EnvironmentError(`platform "${profile.platform}" is not available in this build`);
}

/** The probes, when the machine allows them; undefined when the profile turns them off. */
export async function openProbes(profile: Profile): Promise<ProbeProvider | undefined> {
  void profile;
  return undefined;
}
