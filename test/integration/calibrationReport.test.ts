import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsStore } from '../../harness/results/resultsStore';
import { summarise } from '../../harness/results/summarise';
import { writeReport } from '../../reports/writeReport';
import { variantOf } from '../helpers/calibrationVariant';
import { syntheticRun } from '../helpers/syntheticRun';

describe('report of a calibration run', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-calibration-report-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('tables the calibration verdict, labels variant rows, and leaves variants out of the charts', async () => {
    const { run, steps } = syntheticRun({ runId: 'cal-report', dataplanes: ['baseline'], repetitions: 2, samplesPerStep: 100 });
    const all = [...steps, ...steps.map((s, i) => ({ ...variantOf(s, 'burn=200us', 200, 'node;uv_run;burnCpu'), index: steps.length + i + 1 }))];
    const dir = path.join(tmp, 'run');
    const store = ResultsStore.create(dir);
    store.writeRun({ ...run, stepsPlanned: all.length, stepsCompleted: all.length });
    for (const s of all) store.writeStep(s);
    store.writeSummary(summarise(run.runId, 'complete', all));
    const r = await writeReport(dir);
    const md = fs.readFileSync(r.markdown, 'utf8');
    assert.match(md, /^## Calibration: injected cost against what the breakdown found$/m);
    assert.match(md, /^\| burn=200us \| 1000 qps c4 \| 200 µs CPU \| application \+200\.\d \[/m);
    assert.match(md, /^\| baseline\+burn200us \| /m, 'the variant has its own row in the headline table');
    assert.doesNotMatch(md, /The talk's claims/, 'no sidecar, no claims section');
    for (const f of r.chartFiles.filter((x) => x.endsWith('.vl.json'))) assert.doesNotMatch(fs.readFileSync(f, 'utf8'), /baseline\+burn/, path.basename(f));
    assert.equal(r.flameGraphFiles.some((f) => f.includes('burn')), false);
    const csv = fs.readFileSync(r.csv, 'utf8');
    assert.match(csv, /baseline\+burn200us/, 'steps.csv names the variant');
    assert.match(fs.readFileSync(r.html, 'utf8'), /Calibration: injected cost/);
  });
});
