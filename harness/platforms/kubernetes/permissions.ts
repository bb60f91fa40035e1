import type { V1SelfSubjectAccessReview } from '@kubernetes/client-node';
import { BadInputError } from '../../errors';
import type { KubeApi } from './kubeClient';
import { rbacHint } from './kubeClient';
import type { MeshEnrolment } from './meshMapping';

/** One thing meshbench does on a cluster, as RBAC sees it. deploy/kubernetes/rbac.yaml grants each of them. */
export interface Permission {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  /** Asked in this namespace only (a Role there); cluster-wide otherwise. */
  readonly namespace?: string;
}

const crud = (group: string, resource: string, verbs = ['create', 'get', 'list', 'watch', 'delete']): Permission[] => verbs.map((verb) => ({ verb, group, resource }));

/** What a run needs, given the data planes it will deploy. */
export function requiredPermissions(enrolments: readonly MeshEnrolment[]): Permission[] {
  return [
    ...crud('', 'namespaces'),
    ...crud('', 'pods'),
    ...crud('', 'services', ['create', 'delete']),
    ...crud('', 'configmaps', ['create', 'delete']),
    { verb: 'get', group: '', resource: 'pods', subresource: 'log' },
    ...crud('', 'nodes', ['list']),
    ...crud('apps', 'deployments', ['create', 'list', 'watch', 'delete']),
    ...crud('apps', 'daemonsets', ['list']),
    ...crud('metrics.k8s.io', 'pods', ['list']),
    ...(enrolments.some((e) => e.waypoint) ? crud('gateway.networking.k8s.io', 'gateways', ['create', 'get', 'delete']) : []),
    ...(enrolments.some((e) => e.ciliumL7Policy) ? crud('cilium.io', 'ciliumnetworkpolicies', ['create', 'delete']) : []),
  ];
}

/** What the probes DaemonSet needs besides: its pods' proxy, in its namespace only. */
export const probePermissions: readonly Permission[] = [
  { verb: 'create', group: 'apps', resource: 'daemonsets', namespace: 'meshbench-system' },
  { verb: 'delete', group: 'apps', resource: 'daemonsets', namespace: 'meshbench-system' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'proxy', namespace: 'meshbench-system' },
];

/** What `meshbench cleanup --kubernetes` needs. */
export const cleanupPermissions: readonly Permission[] = [
  ...crud('', 'namespaces', ['list', 'delete']),
  { verb: 'list', group: 'apps', resource: 'daemonsets' },
  { verb: 'delete', group: 'apps', resource: 'daemonsets', namespace: 'meshbench-system' },
];

export function describePermission(p: Permission): string {
  const resource = `${p.resource}${p.subresource === undefined ? '' : `/${p.subresource}`}${p.group === '' ? '' : `.${p.group}`}`;
  return `${p.verb} ${resource}${p.namespace === undefined ? '' : ` in ${p.namespace}`}`;
}

/** Asks the API server (SelfSubjectAccessReview) whether the current user may do each thing; cluster-wide. */
export async function deniedPermissions(api: KubeApi, wanted: readonly Permission[]): Promise<Permission[]> {
  const answers = await Promise.all(wanted.map(async (p) => {
    const review: V1SelfSubjectAccessReview = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: p.verb, group: p.group, resource: p.resource, ...(p.subresource === undefined ? {} : { subresource: p.subresource }), ...(p.namespace === undefined ? {} : { namespace: p.namespace }) } },
    };
    const answer = await api.call('check permissions (create selfsubjectaccessreviews)', () => api.authz.createSelfSubjectAccessReview({ body: review }));
    return answer.status?.allowed === true ? undefined : p;
  }));
  return answers.filter((p): p is Permission => p !== undefined);
}

/** Throws one line naming what is missing and how to grant it, before anything is created. */
export async function requirePermissions(api: KubeApi, wanted: readonly Permission[]): Promise<void> {
  const denied = await deniedPermissions(api, wanted);
  if (denied.length === 0) return;
  const list = denied.slice(0, 4).map(describePermission).join(', ') + (denied.length > 4 ? ` and ${denied.length - 4} more` : '');
  throw new BadInputError(`context ${api.context} may not ${list}`, rbacHint);
}
