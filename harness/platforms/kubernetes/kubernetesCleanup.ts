import { KubeApi, statusOf, type KubeTarget } from './kubeClient';
import { runLabel } from './manifests';
import { cleanupPermissions, requirePermissions } from './permissions';

/*
 * Everything meshbench creates on a cluster lives in namespaces labelled meshbench.io/run=<run id>:
 * deleting those namespaces deletes the rest (pods, services, configmaps, waypoints, policies).
 */

/** Deletes the namespaces matching a label selector; returns their names. */
export async function deleteLabelledNamespaces(api: KubeApi, labelSelector: string): Promise<string[]> {
  const list = await api.call(`list namespaces labelled ${labelSelector}`, () => api.core.listNamespace({ labelSelector }));
  const names = list.items.map((ns) => ns.metadata?.name ?? '').filter((n) => n !== '');
  await Promise.all(names.map((name) => deleteNamespace(api, name)));
  return names;
}

/** Deletes one namespace (foreground: its objects go first); already gone is fine. */
export async function deleteNamespace(api: KubeApi, name: string): Promise<void> {
  await api.call(`delete namespace ${name}`, () => api.core.deleteNamespace({ name, propagationPolicy: 'Foreground' }), true);
}

/** Waits until a namespace is gone (404), polling; false when it is still there at the deadline. */
export async function waitNamespaceGone(api: KubeApi, name: string, timeoutMs: number, pollMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await api.core.readNamespace({ name });
    } catch (err) {
      if (statusOf(err) === 404) return true;
      throw api.translate(err, `read namespace ${name}`);
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export interface KubernetesCleanupReport {
  readonly context: string;
  readonly namespaces: readonly string[];
  /** Probes DaemonSets (they live in meshbench-system, which is not a run's namespace), as namespace/name. */
  readonly daemonSets: readonly string[];
}

/** Deletes the DaemonSets labelled with a run (the probes), wherever they are. */
export async function deleteLabelledDaemonSets(api: KubeApi, labelSelector: string): Promise<string[]> {
  const list = await api.call(`list daemonsets labelled ${labelSelector}`, () => api.apps.listDaemonSetForAllNamespaces({ labelSelector }));
  const found = list.items.map((d) => ({ namespace: d.metadata?.namespace ?? '', name: d.metadata?.name ?? '' })).filter((d) => d.name !== '');
  await Promise.all(found.map((d) => api.call(`delete daemonset ${d.namespace}/${d.name}`, () => api.apps.deleteNamespacedDaemonSet({ namespace: d.namespace, name: d.name }), true)));
  return found.map((d) => `${d.namespace}/${d.name}`);
}

/** `meshbench cleanup --kubernetes`: every namespace any meshbench run left on the context's cluster. */
export async function cleanupKubernetes(context?: string, kubeconfig?: string): Promise<KubernetesCleanupReport> {
  const target: KubeTarget = { context, kubeconfig };
  const api = KubeApi.open(target);
  await requirePermissions(api, cleanupPermissions);
  const namespaces = await deleteLabelledNamespaces(api, runLabel);
  const daemonSets = await deleteLabelledDaemonSets(api, runLabel);
  return { context: api.context, namespaces, daemonSets };
}
