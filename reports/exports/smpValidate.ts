import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

export type SmpKind = 'performanceTestResult' | 'performanceTestConfig';

/** The schema stays a JSON file in the source tree (users can validate with any tool); dist/ reads it from there. */
export const smpSchemaPath = path.join(__dirname, '..', '..', '..', 'reports', 'exports', 'smpSchema.json');

let ajv: Ajv | undefined;

/** Validates an SMP document against the schema; returns the problems (empty when valid). */
export function validateSmp(kind: SmpKind, doc: unknown): string[] {
  if (ajv === undefined) {
    ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    ajv.addSchema(JSON.parse(fs.readFileSync(smpSchemaPath, 'utf8')) as object, 'smp');
  }
  const validate = ajv.getSchema(`smp#/definitions/${kind}`);
  if (validate === undefined) throw new Error(`no SMP definition ${kind}`);
  if (validate(doc) === true) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(top)'} ${e.message ?? 'invalid'}`);
}
