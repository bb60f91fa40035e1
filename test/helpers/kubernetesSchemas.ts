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
  const version = (obj.apiVersion ?? '').split('/').pop() ?? '';
  if (moduleName.startsWith('kubernetes-models/')) {
    const unknown = await unknownFields(obj, `V1${obj.kind ?? ''}`);
    if (unknown.length > 0 && version === 'v1') throw new Error(`unknown fields (Kubernetes would drop them): ${unknown.join(', ')}`);
  }
}

interface Attribute { baseName: string; type: string }
type ModelType = { getAttributeTypeMap?: () => Attribute[] } | undefined;

/**
 * The OpenAPI schemas accept unknown fields (a typo like `imagePullPolicyy` passes), as the API server
 * does unless asked for strict field validation. This walks an object against the client's model
 * attribute maps and lists the fields Kubernetes would drop, like `kubectl apply --validate=strict`.
 */
export async function unknownFields(value: unknown, typeName: string, at = ''): Promise<string[]> {
  const models = await import('@kubernetes/client-node') as unknown as Record<string, ModelType>;
  const walk = (v: unknown, type: string, where: string): string[] => {
    if (v === null || v === undefined) return [];
    const array = /^Array<(.+)>$/.exec(type);
    if (array !== null) return Array.isArray(v) ? v.flatMap((x, i) => walk(x, array[1] as string, `${where}[${i}]`)) : [];
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map !== null) return Object.entries(v as object).flatMap(([k, x]) => walk(x, map[1] as string, `${where}.${k}`));
    const attributes = models[type]?.getAttributeTypeMap?.();
    if (attributes === undefined || typeof v !== 'object') return [];
    return Object.entries(v as object).flatMap(([k, x]) => {
      const a = attributes.find((attr) => attr.baseName === k);
      return a === undefined ? [`${where}.${k}`] : walk(x, a.type, `${where}.${k}`);
    });
  };
  return walk(value, typeName, at);
}
