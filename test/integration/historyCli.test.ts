import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRun } from '../../harness/results/resultsStore';
import { historyPoints } from '../../reports/history/historyModel';
import { runGates } from '../../reports/history/runGates';
import { checkReportInChromium, chromiumMissing } from '../helpers/browserCheck';
import { runCli } from '../helpers/cli';

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
    assert.equal(check.charts.length, 1);
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
});
