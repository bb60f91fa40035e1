import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { backendKey, backendValue, endpointEntry, serviceEntries, serviceKey } from '../../harness/dataplanes/steeringMaps';

/*
 * The TypeScript encoders and the C structs must agree byte for byte: compares the sizes of what TS writes
 * with the BTF of the compiled object (bpftool reads it), so a field added on one side only fails here.
 */
const objectPath = path.join(__dirname, '..', '..', '..', 'bpf', '.output', 'kernelSteering.bpf.o');

describe('kernelSteering.bpf.o layouts', () => {
  it('match the TypeScript encoders', function () {
    if (!fs.existsSync(objectPath)) this.skip(); // built by ci/setup.sh; the privileged tests need it anyway
    let btf: string;
    try {
      btf = execFileSync('bpftool', ['btf', 'dump', 'file', objectPath], { encoding: 'utf8' });
    } catch {
      this.skip();
      return;
    }
    const size = (name: string): number => Number(new RegExp(`STRUCT '${name}' size=(\\d+)`).exec(btf)?.[1] ?? -1);
    const s = serviceEntries({ id: 0, vip: '198.19.0.10', port: 80, backends: [], policy: 'round-robin' });
    assert.equal(size('mb_service_key'), serviceKey('198.19.0.10', 80).length);
    assert.equal(size('mb_service'), s.services.value.length);
    assert.equal(size('mb_backend_key'), backendKey(0, 0).length);
    assert.equal(size('mb_backend'), backendValue('198.18.17.2', 8080).length);
    assert.equal(endpointEntry('198.18.17.2', 1).value.length, 4);
  });
});
