import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli';

const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'results');

describe('compare (command)', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-compare-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('exits 0 on no regression, 1 on a regression, and writes the JSON verdict', async () => {
    const json = path.join(tmp, 'verdict.json');
    const same = await runCli(['compare', path.join(fixtures, 'base'), path.join(fixtures, 'same-build'), '--json', json]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /no regression/);
    assert.equal((JSON.parse(fs.readFileSync(json, 'utf8')) as { verdict: string }).verdict, 'pass');
    const slowed = await runCli(['compare', path.join(fixtures, 'base'), path.join(fixtures, 'slowed-sidecar')]);
    assert.equal(slowed.code, 1, slowed.stderr);
    assert.match(slowed.stderr, /regression in 3 of 9 checks \(sidecar latency.p50/);
  });

  it('exits 2 with one line for a missing folder, another schema version, a truncated step, and different profiles', async () => {
    const base = path.join(fixtures, 'base');
    const missing = await runCli(['compare', base, path.join(tmp, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^meshbench: .*nope: no such results folder\n$/);

    const v2 = path.join(tmp, 'v2');
    fs.cpSync(base, v2, { recursive: true });
    const runJson = JSON.parse(fs.readFileSync(path.join(v2, 'run.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(v2, 'run.json'), JSON.stringify({ ...runJson, schemaVersion: 2 }));
    const other = await runCli(['compare', base, v2]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /results schema version 2, this meshbench reads version 1/);

    const cut = path.join(tmp, 'cut');
    fs.cpSync(base, cut, { recursive: true });
    const stepFile = path.join(cut, 'steps', fs.readdirSync(path.join(cut, 'steps'))[0] as string);
    fs.writeFileSync(stepFile, fs.readFileSync(stepFile, 'utf8').slice(0, 200));
    const truncated = await runCli(['compare', base, cut]);
    assert.equal(truncated.code, 2);
    assert.match(truncated.stderr, /truncated or not JSON/);

    const renamed = path.join(tmp, 'renamed');
    fs.cpSync(base, renamed, { recursive: true });
    const r = JSON.parse(fs.readFileSync(path.join(renamed, 'run.json'), 'utf8')) as { profile: Record<string, unknown> };
    fs.writeFileSync(path.join(renamed, 'run.json'), JSON.stringify({ ...r, profile: { ...r.profile, name: 'nightly', hash: 'x' } }));
    const profiles = await runCli(['compare', base, renamed]);
    assert.equal(profiles.code, 2);
    assert.match(profiles.stderr, /refusing to compare .*different profiles.*--force/);
    assert.doesNotMatch(profiles.stderr, /\n {4}at /, 'no stack trace');
  });

  it('exits 2 when a data plane is measured on one side only, and compares the rest with --allow-missing', async () => {
    const base = path.join(fixtures, 'base');
    const cut = path.join(tmp, 'no-ambient');
    fs.cpSync(path.join(fixtures, 'same-build'), cut, { recursive: true });
    const stepsDir = path.join(cut, 'steps');
    const dropped = fs.readdirSync(stepsDir).filter((f) => /-ambient-/.test(f));
    assert.ok(dropped.length > 0);
    for (const f of dropped) fs.rmSync(path.join(stepsDir, f));
    const runFile = path.join(cut, 'run.json');
    const r = JSON.parse(fs.readFileSync(runFile, 'utf8')) as { stepsCompleted: number };
    fs.writeFileSync(runFile, JSON.stringify({ ...r, stepsCompleted: r.stepsCompleted - dropped.length }));
    const refused = await runCli(['compare', base, cut]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^meshbench: .*did not measure the same data planes: ambient at .* is missing in head .*--allow-missing/);
    const allowed = await runCli(['compare', base, cut, '--allow-missing']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /- ambient at .* is missing in head: not compared \(--allow-missing\)/);
  });
});
