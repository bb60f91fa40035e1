import { EnvironmentError } from '../../errors';
import type { Profile } from '../../profile/profileSchema';
import type { PlatformSession } from '../../runner/platformSession';

/** The netns platform as the runner sees it (to be built: deploys data planes on a netns cluster). */
export async function openNetnsPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  void profile; void runId;
  throw new EnvironmentError('platform "netns" is not available in this build yet');
}
