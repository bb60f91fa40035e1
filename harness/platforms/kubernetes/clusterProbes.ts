import type { Profile } from '../../profile/profileSchema';
import type { ProbeProvider, StepProbes } from '../../runner/platformSession';

/*
 * The probes on a cluster run in the meshbench-probes DaemonSet (manifest: probeDaemonSetManifest, image:
 * Dockerfile, RBAC: deploy/kubernetes/rbac.yaml). This build does not deploy it yet, so a kubernetes run
 * says so once and records latency and resources without probe counters, rather than loading the probes
 * on the machine meshbench runs on, which is not where the pods are.
 */
export function kubernetesProbeProvider(profile: Profile): ProbeProvider | undefined {
  if (!profile.probes.enabled) return undefined;
  return {
    unavailableReason: () => 'probes on a cluster need the meshbench-probes DaemonSet, which this build does not deploy yet (see README, "The kubernetes platform")',
    open: (): StepProbes => { throw new Error('cluster probes are unavailable'); },
    close: async () => undefined,
  };
}
