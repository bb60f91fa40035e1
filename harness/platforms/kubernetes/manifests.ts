import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Container, V1DaemonSet, V1Deployment, V1Namespace, V1NodeAffinity, V1Pod, V1PodSpec, V1SecurityContext, V1Service } from '@kubernetes/client-node';
import type { DataPlaneName, WorkloadProtocol } from '../../profile/profileSchema';
import { echoProtocolArgs, protocolTargetUrl } from '../workloadProtocol';
import type { Placement } from '../../runner/platformSession';
import { waypointName, type MeshEnrolment } from './meshMapping';

/*
 * Every object meshbench creates on a cluster, as pure functions of the run's choices. Nothing here talks
 * to a cluster: the tests validate each of them against the Kubernetes schemas.
 */

export const runLabel = 'meshbench.io/run';
export const roleLabel = 'meshbench.io/role';
export const managedBy = { 'app.kubernetes.io/managed-by': 'meshbench' } as const;
export const echoPort = 8080;
/** The probe agent's port in the probes DaemonSet's pods. */
export const probeAgentPort = 9464;
/** Where the probes DaemonSet runs (created by deploy/kubernetes/rbac.yaml with the privileged Pod Security label). */
export const probesNamespace = 'meshbench-system';
export const echoName = 'meshbench-echo';
export const workloadsConfigMap = 'meshbench-workloads';
export const workloadsFile = 'workloads.js';
export const workloadsMountPath = '/opt/meshbench';
/** A stock image: the workloads are plain JavaScript shipped in a ConfigMap. */
export const defaultImage = 'node:20-bookworm-slim';

export interface WorkloadContext {
  readonly runId: string;
  readonly namespace: string;
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  readonly enrolment: MeshEnrolment;
  readonly image: string;
  readonly protocol: WorkloadProtocol;
  /** Echo server defaults (fortio query syntax). */
  readonly serverControls: string;
  readonly serverNode: string;
  readonly clientNode: string;
}

/** A label value (≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends) naming the run. */
export function runLabelValue(runId: string): string {
  const cleaned = runId.replace(/[^A-Za-z0-9._-]/g, '-');
  const short = cleaned.length <= 63 ? cleaned : `${cleaned.slice(0, 54)}-${createHash('sha256').update(runId).digest('hex').slice(0, 8)}`;
  return short.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '') || 'run';
}

/** Namespace name for the n-th deployment of a run: DNS label, unique per deployment because deletion is asynchronous. */
export function namespaceName(prefix: string, dataplane: DataPlaneName, runId: string, n: number): string {
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 6);
  return `${prefix}-${dataplane}-${hash}-${n}`.slice(0, 63);
}

export function runLabels(runId: string): Record<string, string> {
  return { [runLabel]: runLabelValue(runId), ...managedBy };
}

export function namespaceManifest(ctx: WorkloadContext): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ctx.namespace,
      labels: { ...runLabels(ctx.runId), 'meshbench.io/dataplane': ctx.dataplane, 'meshbench.io/mesh': ctx.enrolment.mesh, ...ctx.enrolment.namespaceLabels },
      ...(Object.keys(ctx.enrolment.namespaceAnnotations).length > 0 ? { annotations: { ...ctx.enrolment.namespaceAnnotations } } : {}),
    },
  };
}

export function workloadsConfigMapManifest(ctx: WorkloadContext, bundleJs: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: workloadsConfigMap, namespace: ctx.namespace, labels: runLabels(ctx.runId) },
    data: { [workloadsFile]: bundleJs },
  };
}

/** Restricted Pod Security profile: the workloads need no privilege. */
const restricted: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 1000,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function pinnedTo(node: string): V1NodeAffinity {
  return {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }],
    },
  };
}

function workloadPodSpec(node: string, container: V1Container, restartPolicy: 'Always' | 'Never'): V1PodSpec {
  return {
    affinity: { nodeAffinity: pinnedTo(node) },
    restartPolicy,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: 5,
    containers: [container],
    volumes: [{ name: 'workloads', configMap: { name: workloadsConfigMap } }],
  };
}

function podAnnotations(ctx: WorkloadContext): { annotations?: Record<string, string> } {
  return Object.keys(ctx.enrolment.podAnnotations).length === 0 ? {} : { annotations: { ...ctx.enrolment.podAnnotations } };
}

function workloadContainer(ctx: WorkloadContext, name: string, args: string[]): V1Container {
  return {
    name,
    image: ctx.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', `${workloadsMountPath}/${workloadsFile}`],
    args,
    securityContext: restricted,
    // Requests only: a CPU limit throttles in 100 ms periods and shows up as latency that is not the mesh's.
    resources: { requests: { cpu: '250m', memory: '64Mi' } },
    volumeMounts: [{ name: 'workloads', mountPath: workloadsMountPath, readOnly: true }],
  };
}

export function echoArgs(ctx: WorkloadContext): string[] {
  return ['echo', '--host', '0.0.0.0', '--port', String(echoPort), ...echoProtocolArgs(ctx.protocol),
    ...(ctx.serverControls === '' ? [] : ['--controls', ctx.serverControls])];
}

export function echoDeploymentManifest(ctx: WorkloadContext): V1Deployment {
  const podLabels = { ...runLabels(ctx.runId), app: echoName, [roleLabel]: 'server' };
  const container: V1Container = {
    ...workloadContainer(ctx, 'echo', echoArgs(ctx)),
    ports: [{ name: ctx.protocol, containerPort: echoPort, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port: echoPort }, periodSeconds: 2, failureThreshold: 3 },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: echoName, namespace: ctx.namespace, labels: runLabels(ctx.runId) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: echoName } },
      template: { metadata: { labels: podLabels, ...podAnnotations(ctx) }, spec: workloadPodSpec(ctx.serverNode, container, 'Always') },
    },
  };
}

export function echoServiceManifest(ctx: WorkloadContext): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: echoName, namespace: ctx.namespace, labels: runLabels(ctx.runId) },
    spec: {
      selector: { app: echoName },
      // appProtocol and the port name tell the meshes which protocol to expect (no sniffing): Istio reads the
      // name's prefix (http, http2, grpc, tcp) and appProtocol, Linkerd and Cilium appProtocol.
      ports: [{ name: ctx.protocol, port: echoPort, targetPort: echoPort, protocol: 'TCP', appProtocol: ctx.protocol }],
    },
  };
}

/** Where the client sends: the service's cluster DNS name, so every mesh sees a service hop. */
export function echoTargetUrl(ctx: Pick<WorkloadContext, 'namespace' | 'protocol'>): string {
  return protocolTargetUrl(ctx.protocol, `${echoName}.${ctx.namespace}.svc.cluster.local:${echoPort}`);
}

/** The load client as a run-to-completion pod; its JSON result is the last thing in its log. */
export function loadPodManifest(ctx: WorkloadContext, name: string, loadArgs: readonly string[]): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ctx.namespace, labels: { ...runLabels(ctx.runId), app: 'meshbench-load', [roleLabel]: 'client' }, ...podAnnotations(ctx) },
    spec: workloadPodSpec(ctx.clientNode, workloadContainer(ctx, 'load', ['load', ...loadArgs, '--events', '--json', '-']), 'Never'),
  };
}

/** Gateway API object (a custom resource: validated against the Gateway API schema shape in the tests). */
export interface GatewayManifest {
  readonly apiVersion: 'gateway.networking.k8s.io/v1';
  readonly kind: 'Gateway';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec: { readonly gatewayClassName: string; readonly listeners: ReadonlyArray<{ name: string; port: number; protocol: string }> };
}

/** The namespace's waypoint, as `istioctl waypoint apply` writes it (Kmesh's dual engine uses the same object). */
export function waypointGatewayManifest(ctx: WorkloadContext): GatewayManifest {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name: waypointName, namespace: ctx.namespace, labels: { ...runLabels(ctx.runId), 'istio.io/waypoint-for': 'service' },
      ...(Object.keys(ctx.enrolment.waypointAnnotations).length > 0 ? { annotations: { ...ctx.enrolment.waypointAnnotations } } : {}),
    },
    spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
  };
}

export interface CiliumNetworkPolicyManifest {
  readonly apiVersion: 'cilium.io/v2';
  readonly kind: 'CiliumNetworkPolicy';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly spec: {
    readonly endpointSelector: { matchLabels: Record<string, string> };
    readonly ingress: ReadonlyArray<{
      fromEndpoints: ReadonlyArray<{ matchLabels: Record<string, string> }>;
      toPorts: ReadonlyArray<{ ports: ReadonlyArray<{ port: string; protocol: 'TCP' }>; rules: { http: ReadonlyArray<{ method?: string; path?: string }> } }>;
    }>;
  };
}

/** An L7 rule that allows every request: its only effect is to send the traffic through cilium-envoy. */
export function ciliumL7PolicyManifest(ctx: WorkloadContext): CiliumNetworkPolicyManifest {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'meshbench-l7', namespace: ctx.namespace, labels: runLabels(ctx.runId) },
    spec: {
      endpointSelector: { matchLabels: { app: echoName } },
      ingress: [{
        fromEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': ctx.namespace } }],
        toPorts: [{ ports: [{ port: String(echoPort), protocol: 'TCP' }], rules: { http: [{ method: '.*', path: '/.*' }] } }],
      }],
    },
  };
}

export interface ProbeDaemonSetOptions {
  readonly runId: string;
  readonly namespace: string;
  readonly image: string;
  readonly serviceAccountName: string;
  readonly args: readonly string[];
  /** Only these nodes (the ones the run uses). */
  readonly nodes?: readonly string[];
  /** The run's token the agents require (MESHBENCH_PROBE_TOKEN). */
  readonly token: string;
}

/**
 * The probes on a cluster: one privileged pod per node with the host's BPF, BTF, tracing and cgroup file
 * systems, so the same probe session can key its counters by the cgroup ids of the benchmark's pods.
 */
export function probeDaemonSetManifest(o: ProbeDaemonSetOptions): V1DaemonSet {
  const labels = { ...runLabels(o.runId), app: 'meshbench-probes' };
  const hostDir = (name: string, path: string): { name: string; hostPath: { path: string; type: string } } => ({ name, hostPath: { path, type: 'Directory' } });
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: `meshbench-probes-${runLabelValue(o.runId).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(-20).replace(/^-+/, '')}`, namespace: o.namespace, labels },
    spec: {
      selector: { matchLabels: { app: 'meshbench-probes', [runLabel]: runLabelValue(o.runId) } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: o.serviceAccountName,
          hostPID: true,
          ...(o.nodes === undefined ? {} : { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [...o.nodes] }] }] } } } }),
          tolerations: [{ operator: 'Exists' }],
          containers: [{
            name: 'probes',
            image: o.image,
            args: [...o.args],
            ports: [{ name: 'probe-agent', containerPort: probeAgentPort, protocol: 'TCP' }],
            readinessProbe: { tcpSocket: { port: probeAgentPort }, periodSeconds: 2 },
            env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, { name: 'MESHBENCH_PROBE_TOKEN', value: o.token }],
            // BPF needs CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN (cgroup attach); privileged is what every eBPF agent uses.
            securityContext: { privileged: true },
            volumeMounts: [
              { name: 'bpffs', mountPath: '/sys/fs/bpf', mountPropagation: 'HostToContainer' },
              { name: 'btf', mountPath: '/sys/kernel/btf', readOnly: true },
              { name: 'tracing', mountPath: '/sys/kernel/tracing', readOnly: true },
              { name: 'cgroup', mountPath: '/sys/fs/cgroup', readOnly: true },
            ],
          }],
          volumes: [hostDir('bpffs', '/sys/fs/bpf'), hostDir('btf', '/sys/kernel/btf'), hostDir('tracing', '/sys/kernel/tracing'), hostDir('cgroup', '/sys/fs/cgroup')],
        },
      },
    },
  };
}

export type AnyManifest = V1Namespace | V1ConfigMap | V1Deployment | V1Service | V1Pod | V1DaemonSet | GatewayManifest | CiliumNetworkPolicyManifest;

/** Everything one deployment creates, in creation order (the load pod comes later, per step). */
export function deploymentManifests(ctx: WorkloadContext, bundleJs: string): AnyManifest[] {
  return [
    namespaceManifest(ctx),
    workloadsConfigMapManifest(ctx, bundleJs),
    ...(ctx.enrolment.waypoint ? [waypointGatewayManifest(ctx)] : []),
    ...(ctx.enrolment.ciliumL7Policy ? [ciliumL7PolicyManifest(ctx)] : []),
    echoServiceManifest(ctx),
    echoDeploymentManifest(ctx),
  ];
}
