import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  ApisApi, AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, Log, Metrics, Watch,
} from '@kubernetes/client-node';
import { BadInputError, EnvironmentError, MeshbenchError } from '../../errors';

type ClientNode = typeof import('@kubernetes/client-node');
let loaded: ClientNode | undefined;

/**
 * @kubernetes/client-node, loaded on first use: it takes about half a second to load, and every CLI
 * invocation (each `meshbench load` child of a netns run among them) would otherwise pay for it.
 */
export function clientNode(): ClientNode {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('@kubernetes/client-node') as ClientNode;
    } catch (err) {
      // An ES module: Node loads it with require() from 20.19 and 22.12 on.
      if ((err as { code?: unknown }).code === 'ERR_REQUIRE_ESM') throw new EnvironmentError(`the kubernetes platform needs Node 20.19 or later (this is ${process.version})`, 'install a newer Node 20 or 22');
      throw err;
    }
  }
  return loaded;
}

/*
 * The one place that knows kubeconfig conventions and turns client errors into one line a user can act
 * on. Everything else talks to the cluster through KubeApi.call(), so a 403 or a refused connection reads
 * the same wherever it happens.
 */

export interface KubeTarget {
  /** A kubeconfig file; default $KUBECONFIG (':'-separated), then ~/.kube/config, then in-cluster. */
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

export const rbacHint = 'apply deploy/kubernetes/rbac.yaml and bind the meshbench-runner ClusterRole to your user';

/** Where the kubeconfig comes from, or a BadInputError saying how to provide one. */
export function loadKubeConfig(target: KubeTarget, env: NodeJS.ProcessEnv = process.env, home = os.homedir()): { kc: KubeConfig; source: string } {
  const kc = new (clientNode().KubeConfig)();
  const parse = (load: () => void, source: string): void => {
    try {
      load();
    } catch (err) {
      throw new BadInputError(`cannot read the kubeconfig ${source}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, 'check it with kubectl config view');
    }
  };
  let source: string;
  if (target.kubeconfig !== undefined) {
    if (!fs.existsSync(target.kubeconfig)) throw new BadInputError(`no kubeconfig at ${target.kubeconfig} (kubernetes.kubeconfig in the profile)`, 'point it at a kubeconfig file, e.g. ~/.kube/config');
    source = target.kubeconfig;
    parse(() => kc.loadFromFile(target.kubeconfig as string), source);
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '') {
    const files = env.KUBECONFIG.split(path.delimiter).filter((f) => f !== '' && fs.existsSync(f));
    if (files.length === 0) throw new BadInputError(`no kubeconfig: KUBECONFIG=${env.KUBECONFIG} names no existing file`, 'point KUBECONFIG at your kubeconfig, or set kubernetes.kubeconfig in the profile');
    source = files.join(path.delimiter);
    parse(() => { if (files.length === 1) kc.loadFromFile(files[0] as string); else kc.loadFromDefault(); }, source);
  } else if (fs.existsSync(path.join(home, '.kube', 'config'))) {
    source = path.join(home, '.kube', 'config');
    parse(() => kc.loadFromFile(source), source);
  } else if (env.KUBERNETES_SERVICE_HOST !== undefined && fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
    source = 'in-cluster service account';
    parse(() => kc.loadFromCluster(), source);
  } else {
    throw new BadInputError('no kubeconfig: KUBECONFIG is unset and ~/.kube/config does not exist',
      'point KUBECONFIG at your cluster\'s kubeconfig (kubectl uses the same), or set kubernetes.kubeconfig in the profile');
  }
  if (target.context !== undefined) {
    if (kc.getContextObject(target.context) === null) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new BadInputError(`context "${target.context}" is not in the kubeconfig ${source} (contexts: ${known})`, 'fix kubernetes.context in the profile or --context');
    }
    kc.setCurrentContext(target.context);
  }
  if (kc.getCurrentContext() === '' || kc.getCurrentCluster() === null) {
    throw new BadInputError(`the kubeconfig ${source} has no current context`, 'kubectl config use-context NAME, or set kubernetes.context in the profile');
  }
  return { kc, source };
}

const connectionCodes = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPROTO', 'CERT_', 'DEPTH_ZERO', 'SELF_SIGNED', 'UNABLE_TO_VERIFY'];

/** The network-level code of a failed request (ECONNREFUSED, a TLS verification code…), if that is what failed. */
export function connectionFailure(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && connectionCodes.some((c) => code.startsWith(c))) return code;
    const message = e instanceof Error ? e.message : '';
    const found = connectionCodes.find((c) => message.includes(c));
    if (found !== undefined) return /\b([A-Z_]*(?:ECONN|ENOT|EHOST|ENET|ETIMED|EAI_|EPROTO|CERT_|DEPTH_|SELF_|UNABLE_)[A-Z_]*)\b/.exec(message)?.[1] ?? found;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The status code of an API answer (ApiException), or undefined for other failures. */
export function statusOf(err: unknown): number | undefined {
  if (loaded !== undefined && err instanceof loaded.ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown }).statusCode ?? (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

function apiMessage(err: unknown): string {
  if (loaded !== undefined && err instanceof loaded.ApiException) {
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string') return message;
  }
  return err instanceof Error ? err.message.split('\n')[0] ?? '' : String(err);
}

function safeJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

export class KubeApi {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly authz: AuthorizationV1Api;
  readonly apis: ApisApi;
  readonly metrics: Metrics;
  readonly log: Log;
  readonly watch: Watch;
  readonly server: string;
  readonly context: string;

  constructor(readonly kc: KubeConfig, readonly source: string) {
    const k = clientNode();
    this.core = kc.makeApiClient(k.CoreV1Api);
    this.apps = kc.makeApiClient(k.AppsV1Api);
    this.custom = kc.makeApiClient(k.CustomObjectsApi);
    this.authz = kc.makeApiClient(k.AuthorizationV1Api);
    this.apis = kc.makeApiClient(k.ApisApi);
    this.metrics = new k.Metrics(kc);
    this.log = new k.Log(kc);
    this.watch = new k.Watch(kc);
    this.server = kc.getCurrentCluster()?.server ?? '?';
    this.context = kc.getCurrentContext();
  }

  static open(target: KubeTarget): KubeApi {
    const { kc, source } = loadKubeConfig(target);
    return new KubeApi(kc, source);
  }

  /** Translates a failed request: unreachable, unauthenticated and forbidden become BadInputErrors naming the fix. */
  translate(err: unknown, what: string): MeshbenchError {
    if (err instanceof MeshbenchError) return err;
    const status = statusOf(err);
    const down = status === undefined || status === 500 ? connectionFailure(err) : undefined;
    if (down !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO|ERR_TLS/.test(down)) {
      return new BadInputError(`the API server at ${this.server} has a certificate the kubeconfig does not trust (context ${this.context}: ${down})`,
        `the cluster's certificate-authority(-data) belongs in ${this.source}; kubectl --context ${this.context} cluster-info checks it`);
    }
    if (down !== undefined) {
      return new BadInputError(`cannot reach the Kubernetes API at ${this.server} (context ${this.context}: ${down})`, `check the cluster and context: kubectl --context ${this.context} cluster-info`);
    }
    if (status === 401) return new BadInputError(`the API server at ${this.server} rejected the credentials of context ${this.context} (401) while trying to ${what}`, `refresh them until kubectl --context ${this.context} get nodes works`);
    if (status === 403) return new BadInputError(`forbidden to ${what} (context ${this.context}): ${apiMessage(err)}`, rbacHint);
    return new MeshbenchError(`kubernetes: could not ${what}${status === undefined ? '' : ` (${status})`}: ${apiMessage(err)}`);
  }

  /** Runs one request; failures come back translated. 404 can be let through with `allow404`. */
  async call<T>(what: string, f: () => Promise<T>): Promise<T>;
  async call<T>(what: string, f: () => Promise<T>, allow404: true): Promise<T | undefined>;
  async call<T>(what: string, f: () => Promise<T>, allow404 = false): Promise<T | undefined> {
    try {
      return await f();
    } catch (err) {
      if (allow404 && statusOf(err) === 404) return undefined;
      throw this.translate(err, what);
    }
  }
}
