import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { stepColumns, stepsCsv } from '../../reports/csvExport';
import { smpConfig, smpResult } from '../../reports/exports/smpExport';
import { validateSmp } from '../../reports/exports/smpValidate';
import { markdownSummary } from '../../reports/markdownSummary';
import { markdownToHtml } from '../../reports/render/markdownHtml';
import { stepRows } from '../../reports/stepRows';
import { summarise } from '../../harness/results/summarise';
import { toFortioJson } from '../../workloads/fortioExport';
import { fortioExportProblems } from '../helpers/fortioSchema';
import { syntheticRun } from '../helpers/syntheticRun';

describe('report exports', () => {
  const run = syntheticRun({ runId: 'x', dataplanes: ['baseline', 'sidecar'], repetitions: 2, samplesPerStep: 200 });

  it('CSV: a header and one row per step, every column, empty cells for unmeasured figures', () => {
    const rows = stepRows('x', run.steps);
    const noProbe = { ...(rows[0] as (typeof rows)[number]), bytesCopiedPerRequest: null };
    const records = parse(stepsCsv([...rows, noProbe]), { columns: true }) as Array<Record<string, string>>;
    assert.equal(records.length, run.steps.length + 1);
    assert.deepEqual(Object.keys(records[0] as object), stepColumns.map(String));
    assert.equal(records[records.length - 1]?.bytesCopiedPerRequest, '');
    assert.equal(Number(records[0]?.latencyP50Us), rows[0]?.latencyP50Us);
  });

  it('CSV: streams per connection and the measurement kind of every step (a search probe named as one)', () => {
    const step = run.steps[0] as (typeof run.steps)[number];
    const h2 = { ...step, loadPoint: { ...step.loadPoint, protocol: 'http2' as const, streams: 8 }, measurement: 'instrumented' as const };
    const probe = { ...step, measurement: 'clean' as const, search: { probe: 3, config: { objective: { p99Us: 5000, errorShare: null }, fromQps: 500, toQps: 1000, maxProbes: 12, resolution: 0.05, closeMargin: 0.25, factor: 2 } } };
    const { measurement: _dropped, ...older } = step;
    const records = parse(stepsCsv(stepRows('x', [{ ...step, measurement: 'clean' }, h2, probe, older])), { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(records.map((r) => [r.streams, r.measurement]), [['1', 'clean'], ['8', 'instrumented'], ['1', 'search-probe'], ['1', 'inline']]);
  });

  it('SMP: every step result and the run config validate against the schema; a wrong document does not', () => {
    for (const s of run.steps) assert.deepEqual(validateSmp('performanceTestResult', smpResult(run.run, s, `steps/${s.id}.json`)), []);
    assert.deepEqual(validateSmp('performanceTestConfig', smpConfig(run.run, run.steps)), []);
    const r = smpResult(run.run, run.steps[0] as (typeof run.steps)[number], 'x');
    assert.ok(r.latencies_ms.p50 !== null && r.latencies_ms.p50 > 0.1 && r.latencies_ms.p50 < 1, 'milliseconds, not µs');
    assert.ok(validateSmp('performanceTestResult', { ...r, latencies_ms: { ...r.latencies_ms, p50: '1' } }).length > 0);
    assert.ok(validateSmp('performanceTestResult', { ...r, start_time: 'yesterday' }).length > 0);
    assert.ok(validateSmp('performanceTestResult', { ...r, actualQps: 1 }).length > 0, 'unknown fields are refused');
  });

  it('fortio JSON per step has fortio\'s field layout (seconds, RetCodes, DurationHistogram with Data and Percentiles)', () => {
    const f = toFortioJson((run.steps[0] as (typeof run.steps)[number]).load);
    for (const k of ['RunType', 'Labels', 'StartTime', 'RequestedQPS', 'RequestedDuration', 'ActualQPS', 'ActualDuration', 'NumThreads', 'Version', 'DurationHistogram', 'RetCodes', 'Sizes', 'URL', 'SocketCount']) assert.ok(k in f, k);
    const h = f.DurationHistogram;
    assert.equal(h.Count, 200);
    assert.ok(h.Avg > 1e-5 && h.Avg < 1e-2, 'seconds');
    assert.ok(h.Data.length > 0 && Math.abs((h.Data[h.Data.length - 1]?.Percent ?? 0) - 100) < 1e-9);
    assert.deepEqual(h.Percentiles?.map((p) => p.Percentile), [50, 75, 90, 99, 99.9]);
    // Synthetic steps draw their histogram from a sample of their requests, so only the schema is checked.
    for (const step of run.steps) assert.deepEqual(fortioExportProblems(JSON.parse(JSON.stringify(toFortioJson(step.load))), { countsFromHistogram: false }), [], step.id);
  });

  it('Markdown summary: one table per load point, the breakdown, and chart links; the HTML shows the same tables', () => {
    const groups = summarise('x', 'complete', run.steps).groups;
    const md = markdownSummary({ run: run.run, groups, charts: [{ id: 'c1', title: 'Chart one', caption: 'cap', spec: { data: { values: [] }, mark: 'bar' } }], chartFiles: { c1: 'charts/c1.svg' }, flameGraphFiles: [], probeNote: null });
    assert.match(md, /^# meshbench report: synthetic/);
    assert.match(md, /## 1000 qps × 4 conn, 0 B, cross-node/);
    // Achieved QPS and every percentile carry their 95 % interval: value [low–high].
    assert.match(md, /\| sidecar \| \d+ \[\d+–\d+\] \| [\d.]+ µs \[[\d.]+ µs–[\d.]+ µs\] \|/);
    assert.match(md, /## Overhead over baseline \(CPU µs per request\)/);
    // No two columns of a table share a heading (the breakdown's `connections` category and the extra connections opened per request).
    for (const header of md.split('\n').filter((l) => l.startsWith('| data plane |'))) {
      const cells = header.split('|').map((c) => c.trim()).filter((c) => c !== '');
      assert.equal(new Set(cells).size, cells.length, `duplicate heading in: ${header}`);
    }
    assert.match(md, /\| connections \|.*\| extra connections opened\/request \|/);
    assert.match(md, /!\[Chart one\]\(charts\/c1.svg\)/);
    const html = markdownToHtml(md);
    assert.equal((html.match(/<table>/g) ?? []).length, 2);
    assert.match(html, /<td class="num">/);
  });
});
