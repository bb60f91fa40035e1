import { withPerfStacks } from '../attribution/stackProbes';
import type { Profile } from '../profile/profileSchema';
import { openNetnsPlatform } from '../platforms/netns/netnsPlatform';
import { openProbeProvider } from '../probes/probeProvider';
import type { PlatformSession, ProbeProvider } from './platformSession';

/** The platform a profile names: the only place that knows both, so a profile switches by `platform` alone. */
export async function openPlatform(profile: Profile, runId: string): Promise<PlatformSession> {
  switch (profile.platform) {
    case 'netns': return openNetnsPlatform(profile, runId);
    // Loaded only when used: the kubernetes client is heavy, and the workloads (`meshbench echo`/`load`,
    // started in every pod) share this CLI; their memory and start-up must not carry it.
    case 'kubernetes': return (await import('../platforms/kubernetes/kubernetesPlatform')).openKubernetesPlatform(profile, runId);
  }
}

/**
 * The probes, when the machine allows them; undefined when the profile turns them off. Stack samples come
 * from perf when the probe provider has none. `note` says what is off and why, for the run's log.
 */
export async function openProbes(profile: Profile): Promise<{ provider: ProbeProvider | undefined; note: string | null }> {
  // On a cluster the pods are not on this machine: local probes (and perf stacks) would measure the wrong kernel.
  if (profile.platform === 'kubernetes') return { provider: await (await import('../platforms/kubernetes/clusterProbes')).kubernetesProbeProvider(profile), note: null };
  return withPerfStacks(await openProbeProvider(profile), profile);
}
