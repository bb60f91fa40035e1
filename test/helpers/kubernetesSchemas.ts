import { esmImport } from './esmImport';

interface Validatable { validate(): void }
type ModelClass = new (data: unknown) => Validatable;

const modules: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  'cilium.io/v2': '@kubernetes-models/cilium/cilium.io/v2',
};

/**
 * Validates one object against the schema of its apiVersion/kind: the Kubernetes OpenAPI schema for
 * built-in kinds (kubernetes-models), the CRDs' own schemas for Gateway API and Cilium. Throws with the
 * schema's complaint; also throws for a kind it has no schema for, so nothing passes unchecked.
 */
export async function validateManifest(manifest: object): Promise<void> {
  const obj = manifest as { apiVersion?: string; kind?: string };
  const moduleName = modules[obj.apiVersion ?? ''];
  if (moduleName === undefined) throw new Error(`no schema for apiVersion ${obj.apiVersion}`);
  const mod = await esmImport<Record<string, ModelClass | undefined>>(moduleName);
  const Model = mod[obj.kind ?? ''];
  if (Model === undefined) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}
