import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../reports/writeReport';
import { checkReportInChromium, chromiumMissing, withReportPage } from '../helpers/browserCheck';
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

  it('flame graphs: search highlights matching frames and says their share; a click zooms into a frame; reset zooms out', async () => {
    const dir = path.join(tmp, 'flames');
    writeSyntheticRun(dir, { runId: 'flames', dataplanes: ['baseline', 'sidecar'], repetitions: 1, samplesPerStep: 200 });
    const r = await writeReport(dir);
    await withReportPage(r.html, async (page) => {
      await page.locator('details summary', { hasText: 'baseline: per component' }).click();
      const fig = page.locator('figure.flame[data-flame-id="flame-baseline-client"]');
      assert.equal(await fig.locator('.flame-chart').getAttribute('data-rendered'), 'true');
      const widthOf = async (name: string): Promise<number> => Number(await fig.locator(`g.frame[name="${name}"] rect`).first().getAttribute('width'));
      await fig.locator('.flame-search').fill('uv__io_poll');
      await page.waitForTimeout(100);
      assert.match(await fig.locator('.flame-search-result').textContent() ?? '', /^\d+ frames, [\d.]+ of [\d.]+ samples \(100\.0%\)$/);
      await fig.locator('.flame-search').fill('(unclosed');
      await page.waitForTimeout(100);
      assert.equal(await fig.locator('.flame-search-result').textContent(), '', 'a term that is no regular expression matches as text, here nothing');
      await fig.locator('.flame-search').fill('');
      const svgWidth = Number(await fig.locator('svg').first().getAttribute('width'));
      const name = 'tcp_sendmsg_[k]';
      const before = await widthOf(name);
      assert.ok(before < svgWidth * 0.99, `${name} is narrower than the graph before zooming (${before} of ${svgWidth})`);
      await fig.locator(`g.frame[name="${name}"]`).first().click();
      await page.waitForTimeout(600);
      assert.ok(await widthOf(name) > svgWidth * 0.99, `zoomed: ${name} spans the graph`);
      await fig.locator('.flame-reset').click();
      await page.waitForTimeout(600);
      assert.ok(Math.abs(await widthOf(name) - before) < 1, 'reset zoom restores the width');
    });
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
