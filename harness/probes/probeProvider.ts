import type { Profile } from '../profile/profileSchema';
import type { ProbeProvider } from '../runner/platformSession';

/** The probes for a run, or undefined when the profile turns them off (to be built on the bpf/ addon). */
export async function openProbeProvider(profile: Profile): Promise<ProbeProvider | undefined> {
  void profile;
  return undefined;
}
