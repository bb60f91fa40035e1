import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const repo = path.join(__dirname, '..', '..', '..');

interface Workflow {
  on: unknown;
  permissions: Record<string, string>;
  jobs: Record<string, { steps: Array<{ run?: string; uses?: string; if?: string }> }>;
}

describe('CI workflows for users (ci/workflows)', () => {
  for (const [file, script, profile] of [['meshbench-nightly.yml', 'ci/nightly.sh', 'PROFILE: ${{ inputs.profile || \'profiles/nightly.yaml\' }}'], ['meshbench-pr-gate.yml', 'ci/pr-gate.sh', 'PROFILE: profiles/pr-gate.yaml']] as const) {
    it(`${file}: valid YAML that calls ${script}, uploads artifacts and fails on a regression`, () => {
      const text = fs.readFileSync(path.join(repo, 'ci', 'workflows', file), 'utf8');
      const wf = YAML.parse(text) as Workflow;
      const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
      assert.ok(steps.some((s) => s.run?.includes(`bash ${script}`)), `calls ${script}`);
      assert.ok(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@')), 'uploads artifacts');
      assert.ok(steps.some((s) => s.if === "steps.gate.outputs.rc != '0'" || s.if === "steps.nightly.outputs.rc != '0'"), 'a last step fails the job on the exit code');
      assert.ok(text.includes(profile));
    });
  }

  it('the scripts exist, are executable and parse; the referenced profiles exist', () => {
    for (const s of ['ci/nightly.sh', 'ci/pr-gate.sh', 'ci/fetch-history.sh', 'ci/lib.sh']) {
      const p = path.join(repo, s);
      assert.ok(fs.existsSync(p), s);
      if (s !== 'ci/lib.sh') assert.ok((fs.statSync(p).mode & 0o111) !== 0, `${s} executable`);
      const r = spawnSync('bash', ['-n', p], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    for (const p of ['profiles/nightly.yaml', 'profiles/pr-gate.yaml']) assert.ok(fs.existsSync(path.join(repo, p)), p);
    const usage = spawnSync('bash', [path.join(repo, 'ci', 'pr-gate.sh')], { encoding: 'utf8' });
    assert.notEqual(usage.status, 0);
    assert.match(usage.stderr, /usage: bash ci\/pr-gate.sh BASE_REF/);
  });
});
