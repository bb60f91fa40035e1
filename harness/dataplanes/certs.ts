import fs from 'node:fs';
import path from 'node:path';
import { run } from '../platforms/netns/exec';
import type { TlsFiles } from './haproxyConfig';

/*
 * A CA and one certificate per proxy identity, generated for each run with openssl (ECDSA P-256, valid one
 * day, SPIFFE-style URI SANs). The keys are readable by the proxy uid only. One shell, not one process per file.
 */
export async function generateMeshCerts(dir: string, identities: readonly string[], ownerUid: number): Promise<Map<string, TlsFiles>> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
  for (const id of identities) if (!/^[a-z0-9-]+$/.test(id)) throw new RangeError(`bad identity ${id}`);
  const ca = path.join(dir, 'ca.pem');
  const script = [
    'set -e',
    `cd ${dir}`,
    'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/O=meshbench/CN=meshbench run CA" 2>/dev/null',
    ...identities.flatMap((id) => [
      `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${id}.key -out ${id}.csr -subj "/O=meshbench/CN=${id}" 2>/dev/null`,
      `printf 'subjectAltName=URI:spiffe://meshbench.local/ns/default/sa/${id}\\nextendedKeyUsage=serverAuth,clientAuth\\n' > ${id}.ext`,
      `openssl x509 -req -in ${id}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ${id}.ext -out ${id}.crt 2>/dev/null`,
      `cat ${id}.crt ${id}.key > ${id}.pem`,
      `rm -f ${id}.csr ${id}.ext ${id}.key ${id}.crt`,
    ]),
    'rm -f ca.key ca.srl',
    `chown -R ${ownerUid}:${ownerUid} .`,
    'chmod 600 *.pem && chmod 644 ca.pem',
  ].join('\n');
  await run(['sh', '-c', script]);
  return new Map(identities.map((id) => [id, { crt: path.join(dir, `${id}.pem`), ca }]));
}
