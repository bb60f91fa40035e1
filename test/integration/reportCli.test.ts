import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSvgRenderer } from '../../reports/render/svgRenderer';
import { latencyAddedChart } from '../../reports/charts/latencyAddedChart';
import { summarise } from '../../harness/results/summarise';
import { runCli } from '../helpers/cli';
import { syntheticRun, writeSyntheticRun } from '../helpers/syntheticRun';

describe('meshbench report', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-report-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes HTML, Markdown, CSV, SVG charts, flame graphs and SMP/fortio exports beside the results', async () => {
    const dir = path.join(tmp, 'run');
    writeSyntheticRun(dir, { runId: 'cli', dataplanes: ['baseline', 'sidecar', 'kernel'], repetitions: 2, samplesPerStep: 100 });
    const r = await runCli(['report', dir]);
    assert.equal(r.code, 0, r.stderr);
    const out = path.join(dir, 'report');
    assert.equal(r.stdout.trim(), path.join(out, 'index.html'));
    for (const f of ['index.html', 'summary.md', 'steps.csv', 'charts/latency-added.svg', 'charts/overhead-breakdown.svg', 'flamegraphs/flame-diff-sidecar.svg', 'exports/smp/test-config.json', 'exports/fortio/0001-baseline-cross-node-q1000-c4-p0-r1.json']) {
      assert.ok(fs.existsSync(path.join(out, f)), f);
    }
    const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script[^>]+src=/, 'no external scripts');
    assert.doesNotMatch(html, /https?:\/\/(cdn|unpkg|fastly)/);
    assert.match(fs.readFileSync(path.join(out, 'charts', 'latency-added.svg'), 'utf8'), /^<svg/);
    assert.equal(fs.readFileSync(path.join(out, 'steps.csv'), 'utf8').trim().split('\n').length, 7);
  });

  it('renders the same SVG twice (deterministic)', async () => {
    const run = syntheticRun({ runId: 'd', dataplanes: ['baseline', 'sidecar'], repetitions: 2, samplesPerStep: 100 });
    const chart = latencyAddedChart(summarise('d', 'complete', run.steps).groups);
    assert.ok(chart !== null);
    const renderer = await createSvgRenderer();
    const a = await renderer.render(chart.spec);
    assert.equal(await renderer.render(chart.spec), a);
    assert.match(a, /class="mark-rect role-mark/);
  });

  it('exits 2 with one clear line for a missing, truncated, empty or other-version results folder', async () => {
    const missing = await runCli(['report', path.join(tmp, 'none')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^meshbench: .*none: no such results folder\n$/);

    const dir = path.join(tmp, 'run');
    writeSyntheticRun(dir, { runId: 'bad', dataplanes: ['baseline'], repetitions: 2, samplesPerStep: 50, withStacks: false });
    const steps = fs.readdirSync(path.join(dir, 'steps'));
    fs.rmSync(path.join(dir, 'steps', steps[1] as string));
    const cut = await runCli(['report', dir]);
    assert.equal(cut.code, 2);
    assert.match(cut.stderr, /run.json records 2 finished steps but steps\/ holds 1 \(the folder was copied or cut short/);

    const runJson = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
    fs.writeFileSync(path.join(dir, 'run.json'), runJson.slice(0, runJson.length / 2));
    const truncated = await runCli(['report', dir]);
    assert.equal(truncated.code, 2);
    assert.match(truncated.stderr, /run.json: truncated or not JSON/);

    fs.writeFileSync(path.join(dir, 'run.json'), runJson.replace('"schemaVersion": 1', '"schemaVersion": 7'));
    const other = await runCli(['report', dir]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /results schema version 7, this meshbench reads version 1/);

    fs.writeFileSync(path.join(dir, 'run.json'), runJson.replace('"stepsCompleted": 2', '"stepsCompleted": 0'));
    fs.rmSync(path.join(dir, 'steps'), { recursive: true });
    const empty = await runCli(['report', dir]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /no finished steps/);
    for (const r of [missing, cut, truncated, other, empty]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
});
