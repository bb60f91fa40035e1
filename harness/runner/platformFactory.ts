import type { Profile } from '../profile/profileSchema';
import { kubernetesProbeProvider } from '../platforms/kubernetes/clusterProbes';
import { openKubernetesPlatform } from '../platforms/kubernetes/kubernetesPlatform';
import { openNetnsPlatform } from '../platforms/netns/netnsPlatform';
import { openProbeProvider } from '../probes/probeProvider';
import type { PlatformSession, ProbeProvider } from './platformSession';

/** The platform a profile names: the only place that knows both, so a profile switches by `platform` alone. */
export async function openPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  switch (profile.platform) {
    case 'netns': return openNetnsPlatform(profile, runId);
    case 'kubernetes': return openKubernetesPlatform(profile, runId);
  }
}

/** The probes, when the machine allows them; undefined when the profile turns them off. */
export async function openProbes(profile: Profile): Promise<ProbeProvider | undefined> {
  // On a cluster the pods are not on this machine: local probes would measure the wrong kernel.
  if (profile.platform === 'kubernetes') return kubernetesProbeProvider(profile);
  return openProbeProvider(profile);
}
