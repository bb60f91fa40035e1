import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { loadRun } from '../../harness/results/resultsStore';
import { compareRuns } from '../../reports/compare/compareRuns';
import { writeReport } from '../../reports/writeReport';
import { checkReportInChromium, chromiumMissing } from '../helpers/browserCheck';
import { cliPath } from '../helpers/cli';
import { findLeftovers, isRoot } from './netnsLeftovers';

/*
 * The report of a real run (netns platform, real proxies, perf stack samples) in headless Chromium:
 * zero console errors, every chart and flame graph drawn. Run under the privileged lock like every test here.
 */

const profile = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'profiles', 'reports', 'report-live.yaml');

describe('report of a real run (root)', function () {
  this.timeout(180_000);
  let tmp: string;
  let child: ChildProcess | undefined;
  let killed = false;

  before(function () {
    if (!isRoot()) this.skip();
    if (chromiumMissing() !== null) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-report-live-'));
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      killed = true;
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 3000));
    }
    // Only a run this test interrupted can have left state behind; `meshbench run` removes its own.
    if (killed) await cleanupEverything();
    if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const run = (out: string): Promise<{ code: number | null; stderr: string }> => new Promise((resolve) => {
    child = spawn(process.execPath, [cliPath, 'run', profile, '--output', out, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code) => resolve({ code, stderr }));
  });

  it('runs a short profile, reports it, and the HTML loads in Chromium with every chart drawn', async () => {
    const out = path.join(tmp, 'run');
    const r = await run(out);
    assert.equal(r.code, 0, r.stderr);
    const loaded = loadRun(out);
    assert.ok(loaded.steps.length >= 2, `steps: ${loaded.steps.map((s) => s.id).join(', ')}`);
    const report = await writeReport(out);
    assert.ok(report.chartFiles.length >= 5);
    const check = await checkReportInChromium(report.html, 'report-live');
    assert.deepEqual(check.consoleErrors, []);
    assert.deepEqual(check.requests, []);
    for (const c of check.charts) assert.ok(c.rendered === 'true' && c.marks > 0, `${c.id}: ${c.rendered}, ${c.marks} marks`);
    if (loaded.steps.some((s) => Object.keys(s.probes.foldedStacks).length > 0)) {
      assert.ok(check.flameGraphs.length > 0, 'stacks were sampled, so flame graphs are drawn');
      for (const f of check.flameGraphs) assert.ok(f.frames > 0, f.id);
    }
    // The live check of compare: a real run against itself passes every gate.
    const same = compareRuns(loaded, loaded);
    assert.equal(same.verdict, 'pass');
    assert.deepEqual(findLeftovers().namespaces, []);
  });
});
