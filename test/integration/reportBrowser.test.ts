import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../reports/writeReport';
import { checkReportInChromium, chromiumMissing } from '../helpers/browserCheck';
import { syntheticRun, writeSyntheticRun } from '../helpers/syntheticRun';
import { ResultsStore } from '../../harness/results/resultsStore';

describe('HTML report in headless Chromium', function () {
  this.timeout(90_000);
  let tmp: string;
  before(function () {
    const missing = chromiumMissing();
    if (missing !== null) this.skip();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-report-browser-'));
  });
  after(() => { if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true }); });

  it('loads offline with no console errors, and every chart and flame graph draws marks', async () => {
    const dir = path.join(tmp, 'run');
    writeSyntheticRun(dir, { runId: 'browser', qps: [500, 2000], connections: [4, 16], repetitions: 2, samplesPerStep: 200 });
    const r = await writeReport(dir);
    const check = await checkReportInChromium(r.html, 'report-synthetic');
    assert.deepEqual(check.consoleErrors, []);
    assert.deepEqual(check.requests, [], 'the report must not fetch anything (no CDN)');
    assert.equal(check.charts.length, r.chartFiles.length);
    assert.ok(check.charts.length >= 6, `charts: ${check.charts.map((c) => c.id).join(', ')}`);
    for (const c of check.charts) {
      assert.equal(c.rendered, 'true', `${c.id} rendered`);
      assert.ok(c.marks > 0, `${c.id} drew no marks`);
    }
    assert.ok(check.flameGraphs.length > 0, 'flame graphs present');
    for (const f of check.flameGraphs) assert.ok(f.frames > 0, `${f.id} has no frames`);
    assert.ok(fs.statSync(check.screenshot).size > 10_000);
  });

  it('a nightly-shaped run (two placements, two payloads, a sweep and max throughput) draws every chart too', async () => {
    const dir = path.join(tmp, 'nightly');
    writeSyntheticRun(dir, { runId: 'nightly', dataplanes: ['baseline', 'sidecar', 'kernel'], placements: ['same-node', 'cross-node'], payloads: [0, 4096], qps: [1000, 0], connections: [4, 64], repetitions: 2, samplesPerStep: 100, stackVariety: 2 });
    const r = await writeReport(dir);
    const check = await checkReportInChromium(r.html, 'report-nightly-shaped');
    assert.deepEqual(check.consoleErrors, []);
    for (const c of check.charts) assert.ok(c.rendered === 'true' && c.marks > 0, `${c.id}: ${c.rendered}, ${c.marks} marks`);
  });

  it('a run without resource samples, probes or stacks (e.g. a loopback platform) still reports its latency', async () => {
    const dir = path.join(tmp, 'bare');
    const { run, steps } = syntheticRun({ runId: 'bare', dataplanes: ['baseline', 'sidecar'], repetitions: 2, samplesPerStep: 100, withStacks: false });
    const store = ResultsStore.create(dir);
    store.writeRun(run);
    for (const st of steps) store.writeStep({ ...st, components: [], resources: {}, probes: { available: false, unavailableReason: 'disabled in the profile', figures: {}, detail: {}, foldedStacks: {} }, connectionsOnPath: null, ebpf: null });
    const r = await writeReport(dir);
    assert.deepEqual(r.chartFiles.map((f) => path.basename(f)), ['latency-by-dataplane.svg', 'latency-added.svg']);
    assert.match(fs.readFileSync(r.markdown, 'utf8'), /\*\*probes\*\* off in 4 of 4 steps \(disabled in the profile\)/);
    const check = await checkReportInChromium(r.html, 'report-bare');
    assert.deepEqual(check.consoleErrors, []);
    for (const c of check.charts) assert.ok(c.rendered === 'true' && c.marks > 0, c.id);
  });
});
