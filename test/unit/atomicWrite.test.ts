import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkWritableOutput } from '../../harness/atomicWrite';
import { BadInputError } from '../../harness/errors';

describe('output files checked before a run', () => {
  it('refuses a folder no file can be made in (/proc passes access(W_OK) for root), a missing folder and a folder as the file; leaves nothing behind', () => {
    assert.throws(() => checkWritableOutput('--fortio-json', '/proc/x'), (e: Error) => e instanceof BadInputError && /--fortio-json \/proc\/x: no file can be written in folder \/proc/.test(e.message));
    assert.throws(() => checkWritableOutput('--json', '/nonexistent-meshbench/x.json'), (e: Error) => e instanceof BadInputError && /does not exist/.test(e.message));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-write-check-'));
    try {
      assert.throws(() => checkWritableOutput('--json', dir), (e: Error) => e instanceof BadInputError && /is a folder, not a file/.test(e.message));
      checkWritableOutput('--json', path.join(dir, 'out.json'));
      assert.deepEqual(fs.readdirSync(dir), [], 'the check file is removed');
      checkWritableOutput('--json', '-');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
