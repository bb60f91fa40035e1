import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRun } from '../../harness/results/resultsStore';
import { historyPoints } from '../../reports/history/historyModel';
import { runGates } from '../../reports/history/runGates';
import { checkReportInChromium, chromiumMissing } from '../helpers/browserCheck';
import { runCli } from '../helpers/cli';
import { writeSyntheticRun } from '../helpers/syntheticRun';

const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'results');
const names = ['slowed-sidecar', 'base', 'same-build'];

describe('meshbench history', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-history-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('orders runs by time and flags the run (and data plane) the gate flagged against the previous run', () => {
    const runs = names.map((n) => loadRun(path.join(fixtures, n)));
    const { verdicts, gates } = runGates(runs, new Map());
    assert.deepEqual(gates.map((g) => g.verdict), ['not compared', 'pass', 'regression']);
    assert.equal(gates[2]?.versus, '20261102T020000Z-pr-gate');
    const points = historyPoints(runs, 'latency.p99', verdicts);
    assert.deepEqual(points.filter((p) => p.flagged).map((p) => `${p.runId} ${p.dataplane}`), ['20261103T020000Z-pr-gate sidecar']);
  });

  it('prefers the verdict CI recorded beside a run (compare.json)', async () => {
    const dirs = names.map((n) => { const d = path.join(tmp, n); fs.cpSync(path.join(fixtures, n), d, { recursive: true }); return d; });
    // The CI compared same-build with slowed-sidecar as base: a recorded verdict wins over recomputing.
    const r = await runCli(['compare', dirs[0] as string, dirs[2] as string, '--force', '--json', path.join(dirs[2] as string, 'compare.json')]);
    assert.equal(r.code, 0, r.stderr);
    const out = path.join(tmp, 'history');
    const h = await runCli(['history', tmp, '--metric', 'latency.p50', '--output', out]);
    assert.equal(h.code, 0, h.stderr);
    const md = fs.readFileSync(path.join(out, 'history.md'), 'utf8');
    assert.match(md, /\| `20261102T020000Z-pr-gate` \| [^|]+ \| [^|]+ \| ✓ vs `20261103T020000Z-pr-gate` \|/);
    assert.match(md, /# meshbench history: latency.p50/);
    assert.ok(fs.existsSync(path.join(out, 'history.svg')) && fs.existsSync(path.join(out, 'history.csv')));
  });

  it('draws the trend in Chromium with no console errors', async function () {
    if (chromiumMissing() !== null) this.skip();
    const out = path.join(tmp, 'history');
    const h = await runCli(['history', ...names.map((n) => path.join(fixtures, n)), '--output', out]);
    assert.equal(h.code, 0, h.stderr);
    const check = await checkReportInChromium(path.join(out, 'history.html'), 'history-fixtures');
    assert.deepEqual(check.consoleErrors, []);
    assert.equal(check.charts.length, 3, 'the charted metric and the two other gated ones, each with its change points');
    assert.equal(check.charts[0]?.rendered, 'true');
    assert.ok((check.charts[0]?.marks ?? 0) > 0);
  });

  it('exits 2 on an unknown metric or no results folder', async () => {
    const bad = await runCli(['history', path.join(fixtures, 'base'), '--metric', 'latency.p42']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--metric latency.p42: expected one of/);
    const none = await runCli(['history', tmp]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no results folders in/);
  });

  it('lists change points of every gated metric, marks them on the chart, and with --fail-on-change-point exits 1 on a new one in the worse direction', async () => {
    const root = path.join(tmp, 'nightly');
    // 18 quiet nights, then 3 with the sidecar doing 80 µs more proxy work per request (a change needs 3 runs on
    // each side, and with 15 runs in all the permutation p of 3 outliers cannot go below ~0.006, too near α = 0.01).
    for (let i = 0; i < 21; i += 1) {
      writeSyntheticRun(path.join(root, `night-${String(i).padStart(2, '0')}`), {
        runId: `night-${String(i).padStart(2, '0')}`, dataplanes: ['baseline', 'sidecar'], repetitions: 3, samplesPerStep: 300, withStacks: false,
        seed: 100 + i, startedAt: new Date(Date.UTC(2026, 9, 1 + i, 2)).toISOString(), sidecarExtraUs: i >= 18 ? 80 : 0,
      });
    }
    const out = path.join(tmp, 'history');
    const failing = await runCli(['history', root, '--metric', 'latency.p50', '--output', out, '--fail-on-change-point']);
    assert.equal(failing.code, 1, failing.stderr);
    assert.match(failing.stderr, /change points \(\d+ new, [1-9]\d* new and worse\)/);
    assert.match(failing.stderr, /new change point, worse: latency\.p50 sidecar .* from night-18/);
    const md = fs.readFileSync(path.join(out, 'history.md'), 'utf8');
    assert.match(md, /## Change points/);
    assert.match(md, /\| latency\.p50 \| sidecar \| [^|]+ \| `night-18` \| [^|]+ \| [^|]+ \| [^|]+ \| \+\d+\.\d% \| [\d.]+ \| ✗ worse · \*\*new\*\* \|/);
    assert.match(md, /\| cpu\.perRequest \| sidecar \| [^|]+ \| `night-18` \|/);
    assert.doesNotMatch(md, /\| baseline \| [^|]+ \| `night-/, 'the baseline did not change');
    const html = fs.readFileSync(path.join(out, 'history.html'), 'utf8');
    assert.match(html, /#6a3d9a/, 'change points drawn on the chart');
    if (chromiumMissing() === null) {
      const check = await checkReportInChromium(path.join(out, 'history.html'), 'history-change-points');
      assert.deepEqual(check.consoleErrors, []);
      assert.ok(check.charts.length === 3 && check.charts.every((c) => c.rendered === 'true' && (c.marks ?? 0) > 0), JSON.stringify(check.charts));
    }
    // Without the slowed nights there is nothing to report, and the flag passes.
    for (const n of ['night-18', 'night-19', 'night-20']) fs.rmSync(path.join(root, n), { recursive: true });
    const quiet = await runCli(['history', root, '--output', out, '--fail-on-change-point']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(fs.readFileSync(path.join(out, 'history.md'), 'utf8'), /## Change points[\s\S]*None found\./);
  });
});
