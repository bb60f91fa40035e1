import { EnvironmentError } from '../../errors';
import type { Profile } from '../../profile/profileSchema';
import type { PlatformSession } from '../../runner/platformSession';

/** The kubernetes platform as the runner sees it (to be built). */
export async function openKubernetesPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  void profile; void runId;
  throw new EnvironmentError('platform "kubernetes" is not available in this build yet');
}
