import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { KubeApi } from './kubeClient';
import { isPodReady } from './enrolmentCheck';
import { watchUntil } from './watchUntil';

/** Waiting reasons that do not go away by waiting longer. */
const fatalReasons = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'];

function statuses(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/** Pure: why a pod will not start, if it will not. */
export function podStartFailure(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    for (const s of statuses(pod)) {
      const reason = s.state?.waiting?.reason;
      if (reason !== undefined && fatalReasons.includes(reason)) {
        const imageHint = reason.includes('Image') ? ` (image ${s.image}: set kubernetes.image to one the nodes can pull)` : '';
        return `pod ${pod.metadata?.namespace}/${pod.metadata?.name} cannot start: container ${s.name} ${reason}${s.state?.waiting?.message === undefined ? '' : `: ${s.state.waiting.message}`}${imageHint}`;
      }
    }
  }
  return undefined;
}

/** Pure: one line on where pods stand, for timeout messages. */
export function describePods(pods: readonly V1Pod[]): string {
  if (pods.length === 0) return 'no pod exists yet';
  return pods.map((pod) => {
    const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const waiting = statuses(pod).filter((s) => s.state?.waiting !== undefined).map((s) => `${s.name} ${s.state?.waiting?.reason ?? 'waiting'}`);
    const parts = [pod.status?.phase ?? 'Pending', ...(unscheduled === undefined ? [] : [`unschedulable: ${unscheduled.message ?? unscheduled.reason ?? ''}`]), ...waiting];
    return `${pod.metadata?.name}: ${parts.join(', ')}`;
  }).join('; ');
}

export async function waitForReadyPod(api: KubeApi, namespace: string, labelSelector: string, what: string, timeoutMs: number, signal?: AbortSignal): Promise<V1Pod> {
  return watchUntil<V1Pod, V1Pod>({
    api,
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector },
    until: (pods) => pods.find(isPodReady),
    failed: podStartFailure,
    timeoutMs,
    describeTimeout: (pods) => `${what} not ready after ${Math.round(timeoutMs / 1000)} s (${describePods(pods)}); kubectl -n ${namespace} describe pods -l ${labelSelector}`,
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Waits until a container of a pod has started (running or already finished). */
export async function waitForContainer(api: KubeApi, namespace: string, pod: string, container: string, state: 'started' | 'terminated', timeoutMs: number, signal?: AbortSignal): Promise<V1Pod> {
  return watchUntil<V1Pod, V1Pod>({
    api,
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { fieldSelector: `metadata.name=${pod}` },
    until: (pods) => pods.find((p) => {
      const s = statuses(p).find((c) => c.name === container)?.state;
      return state === 'terminated' ? s?.terminated !== undefined : s?.running !== undefined || s?.terminated !== undefined;
    }),
    failed: podStartFailure,
    timeoutMs,
    describeTimeout: (pods) => `pod ${namespace}/${pod}: container ${container} not ${state} after ${Math.round(timeoutMs / 1000)} s (${describePods(pods)})`,
    ...(signal === undefined ? {} : { signal }),
  });
}

export function exitCodeOf(pod: V1Pod, container: string): number | undefined {
  return statuses(pod).find((c) => c.name === container)?.state?.terminated?.exitCode;
}
