import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import { spread, summarise } from '../../harness/results/summarise';
import { stepCosts, unmeasuredCpuComponents } from '../../harness/attribution/overheadBreakdown';
import type { RunRecord, StepRecord } from '../../harness/results/resultTypes';
import type { LoadResult } from '../../workloads/loadResult';
import { BadInputError } from '../../harness/errors';
import { formatSummaryText } from '../../harness/results/summaryText';
import { markdownSummary } from '../../reports/markdownSummary';
import { syntheticRun } from '../helpers/syntheticRun';

function step(dataplane: StepRecord['dataplane'], repetition: number, p50: number, cpu: Record<string, number>): StepRecord {
  const hist = { count: 1000, minUs: 1, maxUs: 1, meanUs: 1, stddevUs: 0, percentilesUs: { 50: p50, 90: p50 * 1.5, 99: p50 * 2, 99.9: p50 * 3 }, histogram: '' };
  const load = { requestsCompleted: 1000, requestsFailed: 0, actualQps: 1000, latency: hist } as unknown as LoadResult;
  return {
    schemaVersion: 1, kind: 'meshbench-step', index: 0, id: `${dataplane}-r${repetition}`, dataplane, placement: 'cross-node',
    loadPoint: { qps: 1000, connections: 4, payloadBytes: 0, keepAlive: true, protocol: 'http' }, repetition,
    startedAt: '', endedAt: '',
    components: Object.keys(cpu).map((name) => ({ name, role: name.includes('proxy') ? 'proxy' : name === 'client' ? 'client' : 'server', node: null, cgroupId: null })),
    load,
    resources: Object.fromEntries(Object.entries(cpu).map(([n, c]) => [n, { cpuUserUs: 0, cpuSystemUs: 0, cpuTotalUs: c * 1000, cpuUsPerRequest: c, cpuCores: 0, memoryRssBytesAvg: 1, memoryRssBytesPeak: 2, samples: 10 }])),
    probes: { available: false, unavailableReason: 'test', figures: {}, detail: {}, foldedStacks: {} },
    connectionsOnPath: dataplane === 'baseline' ? 1 : 3,
    ebpf: null,
  };
}

describe('summary', () => {
  it('spreads values: min, median, max', () => {
    assert.deepEqual(spread([3, 1, 2]), { values: [3, 1, 2], min: 1, median: 2, max: 3 });
    assert.equal(spread([4, 1, 2, 3]).median, 2.5);
  });

  it('groups repetitions and compares each with the baseline of the same repetition', () => {
    const steps = [
      step('baseline', 1, 100, { client: 10, server: 10 }), step('sidecar', 1, 130, { client: 10, server: 10, 'client-proxy': 20 }),
      step('baseline', 2, 110, { client: 10, server: 10 }), step('sidecar', 2, 150, { client: 10, server: 10, 'client-proxy': 24 }),
    ];
    const s = summarise('r', 'complete', steps);
    assert.equal(s.groups.length, 2);
    const sc = s.groups.find((g) => g.dataplane === 'sidecar');
    assert.ok(sc !== undefined);
    assert.equal(sc.repetitions, 2);
    assert.deepEqual(sc.latencyAddedP50Us?.values, [30, 40]);
    assert.equal(sc.latencyP50Us?.min, 130);
    assert.equal(sc.cpuUsPerRequest?.median, 42);
    assert.equal(sc.cpuUsPerRequestByComponent['client-proxy'], 22);
    assert.equal(sc.connectionsOnPath, 3);
    assert.ok(sc.breakdown !== null && sc.breakdown.extraCpuUsPerRequest > 0);
    const base = s.groups.find((g) => g.dataplane === 'baseline');
    assert.equal(base?.latencyAddedP50Us, null);
    assert.equal(base?.breakdown, null);
  });

  it('reads the achieved rate over the repetitions that measured one: a load result with actualQps null (a 0 s window) is no 0 qps', () => {
    const unmeasured = step('baseline', 3, 100, { client: 10, server: 10 });
    const steps = [step('baseline', 1, 100, { client: 10, server: 10 }), step('baseline', 2, 100, { client: 10, server: 10 }),
      { ...unmeasured, load: { ...unmeasured.load, actualQps: null, actualQpsUnavailableReason: 'the run was interrupted before the measured window began' } }];
    const g = summarise('r', 'complete', steps).groups[0];
    assert.deepEqual(g?.actualQps.values, [1000, 1000]);
    assert.equal(g?.actualQps.median, 1000);
  });

  it('leaves a repetition that completed no request out of the latency and CPU figures, and says so beside them', () => {
    const steps = [
      step('baseline', 1, 100, { client: 10, server: 10 }), step('sidecar', 1, 130, { client: 10, server: 10, 'client-proxy': 20 }),
      step('baseline', 2, 110, { client: 10, server: 10 }), step('sidecar', 2, 150, { client: 10, server: 10, 'client-proxy': 24 }),
      step('baseline', 3, 105, { client: 10, server: 10 }), emptyStep(step('sidecar', 3, 0, { client: 10, server: 10, 'client-proxy': 20 })),
    ];
    const s = summarise('r', 'complete', steps);
    const sc = s.groups.find((g) => g.dataplane === 'sidecar');
    assert.ok(sc !== undefined && sc.latencyP99Us !== null && sc.cpuUsPerRequest !== null);
    assert.equal(sc.repetitions, 3);
    // Not [260, 300, 0] with a median of 260: the empty repetition is no 0 µs latency.
    assert.deepEqual(sc.latencyP99Us.values, [260, 300]);
    assert.equal(sc.latencyP99Us.median, 280);
    assert.deepEqual(sc.latencyAddedP50Us?.values, [30, 40]);
    assert.deepEqual(sc.latencyLeftOut, { repetitions: 1, reason: 'no request was sent in the measured window' });
    assert.deepEqual(sc.cpuUsPerRequest.values, [40, 44]);
    assert.deepEqual(sc.cpuLeftOut, { repetitions: 1, reason: 'no request completed' });
    assert.equal(sc.breakdownUncertainty !== null && sc.breakdownUncertainty !== undefined, true);
    assert.equal(s.groups.find((g) => g.dataplane === 'baseline')?.latencyLeftOut, undefined);
    const text = formatSummaryText(s);
    assert.match(text, /280 µs \[260 µs–300 µs\] \(1 of 3 left out: no request was sent in the measured window\)/);
    assert.match(text, /42\.0 \[40\.0–44\.0\] \(1 of 3 left out: no request completed\)/);
    assert.match(markdownSummary({ run: syntheticRun({ runId: 'r', dataplanes: ['baseline'], repetitions: 1, samplesPerStep: 10, withStacks: false, seed: 1 }).run, groups: s.groups, charts: [], chartFiles: {}, flameGraphFiles: [], probeNote: null }), /\(1 of 3 left out: no request was sent in the measured window\)/);
  });

  it('gives null with the reason, never 0, when no repetition completed a request or measured its CPU', () => {
    const steps = [
      step('baseline', 1, 100, { client: 10, server: 10 }), emptyStep(step('sidecar', 1, 0, { client: 10, server: 10, 'client-proxy': 20 })),
      step('baseline', 2, 110, { client: 10, server: 10 }), emptyStep(step('sidecar', 2, 0, { client: 10, server: 10, 'client-proxy': 20 })),
    ];
    const s = JSON.parse(JSON.stringify(summarise('r', 'complete', steps))) as ReturnType<typeof summarise>;
    const sc = s.groups.find((g) => g.dataplane === 'sidecar');
    assert.ok(sc !== undefined);
    for (const f of [sc.latencyP50Us, sc.latencyP90Us, sc.latencyP99Us, sc.latencyP999Us, sc.cpuUsPerRequest, sc.latencyAddedP50Us, sc.latencyAddedP99Pct, sc.extraCpuUsPerRequest]) assert.equal(f, null);
    assert.deepEqual(sc.latencyLeftOut, { repetitions: 2, reason: 'no request was sent in the measured window' });
    assert.match(formatSummaryText(s), /n\/a \(no request was sent in the measured window\)/);
    assert.match(formatSummaryText(s), /n\/a \(no request completed\)/);
    // A component whose CPU was not measured although requests completed: named, and not counted as 0.
    const partial = step('sidecar', 1, 130, { client: 10, server: 10, 'client-proxy': 20 });
    const noProxyCpu = { ...partial, resources: { ...partial.resources, 'client-proxy': { ...partial.resources['client-proxy'], cpuUsPerRequest: null } } } as StepRecord;
    const g = summarise('r', 'complete', [steps[0] as StepRecord, noProxyCpu]).groups.find((x) => x.dataplane === 'sidecar');
    assert.equal(g?.cpuUsPerRequest, null);
    assert.deepEqual(g?.cpuLeftOut, { repetitions: 1, reason: 'CPU of client-proxy not measured' });
  });

  it('a component whose CPU per request is unmeasured enters no breakdown as 0 µs: stepCosts is null, the pair is left out and counted', () => {
    const partial = step('sidecar', 2, 130, { client: 10, server: 10, 'client-proxy': 20 });
    const noProxyCpu = { ...partial, resources: { ...partial.resources, 'client-proxy': { ...partial.resources['client-proxy'], cpuUsPerRequest: null } } } as StepRecord;
    assert.equal(stepCosts(noProxyCpu), null);
    assert.deepEqual(unmeasuredCpuComponents(noProxyCpu), ['client-proxy']);
    assert.deepEqual(Object.keys(stepCosts(partial) ?? {}), ['client', 'server', 'client-proxy']);
    const steps = [step('baseline', 1, 100, { client: 10, server: 10 }), step('sidecar', 1, 130, { client: 10, server: 10, 'client-proxy': 24 }), step('baseline', 2, 100, { client: 10, server: 10 }), noProxyCpu];
    const g = summarise('r', 'complete', steps).groups.find((x) => x.dataplane === 'sidecar');
    assert.deepEqual(g?.extraCpuUsPerRequest?.values, [24], 'only the pair with every CPU measured');
    assert.equal(g?.breakdown?.extraCpuUsPerRequest, 24);
    assert.deepEqual(g?.cpuLeftOut, { repetitions: 1, reason: 'CPU of client-proxy not measured' });
    assert.deepEqual(g?.breakdownLeftOut, { repetitions: 1, reason: 'CPU of client-proxy not measured' });
    const text = formatSummaryText(summarise('r', 'complete', steps));
    assert.match(text, /^  sidecar .*: the breakdown leaves out 1 repetition \(CPU of client-proxy not measured\)$/m);
    // Every pair left out: no breakdown, and the summary and the report say why instead of dropping the section.
    const none = summarise('r', 'complete', [steps[2] as StepRecord, noProxyCpu]);
    const ng = none.groups.find((x) => x.dataplane === 'sidecar');
    assert.equal(ng?.breakdown, null);
    assert.match(formatSummaryText(none), /overhead over baseline at the same load point:\n  sidecar .*: no breakdown: 1 repetition left out \(CPU of client-proxy not measured\)$/m);
    const md = markdownSummary({ run: syntheticRun({ runId: 'r', dataplanes: ['baseline'], repetitions: 1, samplesPerStep: 10, withStacks: false, seed: 1 }).run, groups: none.groups, charts: [], chartFiles: {}, flameGraphFiles: [], probeNote: null });
    assert.match(md, /## Overhead over baseline \(CPU µs per request\)\n\n- sidecar .*: no breakdown: 1 repetition left out \(CPU of client-proxy not measured\)/);
    assert.equal(summarise('r', 'complete', steps).groups.find((x) => x.dataplane === 'baseline')?.breakdownLeftOut, undefined, 'the baseline has no breakdown to leave anything out of');
  });

  it('a run with nothing measured (Ctrl-C before the first step finished) prints one line, not empty tables', () => {
    assert.equal(formatSummaryText(summarise('r', 'partial', [])), '\nnothing was measured: the run was interrupted before its first step finished\n');
    const skipped = summarise('r', 'failed', [], [{ dataplane: 'sidecar', reason: 'haproxy not installed' }]);
    assert.equal(formatSummaryText(skipped), '\nnothing was measured: no step finished\nskipped sidecar: haproxy not installed\n');
    assert.match(formatSummaryText(summarise('r', 'partial', [step('baseline', 1, 100, { client: 10, server: 10 })])), /data plane +placement/);
  });
});

/** `s` as a step whose client completed no request: empty histogram (null figures and a reason), no CPU per request. */
function emptyStep(s: StepRecord): StepRecord {
  const latency = { count: 0, minUs: null, maxUs: null, meanUs: null, stddevUs: null, percentilesUs: { 50: null, 90: null, 99: null, 99.9: null }, unavailableReason: 'no request was sent in the measured window', histogram: '' };
  const resources = Object.fromEntries(Object.entries(s.resources).map(([n, r]) => [n, { ...r, cpuUsPerRequest: null }]));
  return { ...s, load: { ...s.load, requestsCompleted: 0, actualQps: 0, latency }, resources } as StepRecord;
}

describe('results store', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-results-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = { schemaVersion: 1, kind: 'meshbench-run', runId: 'x', status: 'complete' } as unknown as RunRecord;

  it('writes and reads back a run with its steps in order', () => {
    const out = path.join(dir, 'r');
    const store = ResultsStore.create(out);
    store.writeRun(run);
    store.writeStep({ ...step('sidecar', 1, 1, {}), index: 2 });
    store.writeStep({ ...step('baseline', 1, 1, {}), index: 1 });
    const loaded = loadRun(out);
    assert.deepEqual(loaded.steps.map((s) => s.dataplane), ['baseline', 'sidecar']);
    assert.throws(() => ResultsStore.create(out), /not empty/);
  });

  it('refuses missing, truncated and other-version folders with exit code 2', () => {
    assert.throws(() => loadRun(path.join(dir, 'none')), (e: unknown) => e instanceof BadInputError && /no such results folder/.test(e.message));
    fs.writeFileSync(path.join(dir, 'run.json'), '{"schemaVersion": 1, "kind": "meshb');
    assert.throws(() => loadRun(path.join(dir, 'run.json')), (e: unknown) => e instanceof BadInputError && /run\.json: is a file, not a results folder/.test(e.message));
    assert.throws(() => loadRun(dir), /truncated or not JSON/);
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...run, schemaVersion: 99 }));
    assert.throws(() => loadRun(dir), (e: unknown) => e instanceof BadInputError && e.exitCode === 2 && /schema version 99/.test(e.message));
  });
});

describe('ResultsStore.create: an --output that cannot hold results is bad input, in one line', () => {
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-store-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('refuses a file, a folder under a file, and a non-empty folder; creates a new one with steps/', () => {
    const file = path.join(tmp, 'file');
    fs.writeFileSync(file, 'x');
    assert.throws(() => ResultsStore.create(file), (e: unknown) => e instanceof BadInputError && e.message === `--output ${file} exists and is not a folder`);
    assert.throws(() => ResultsStore.create(path.join(file, 'sub')), (e: unknown) => e instanceof BadInputError && e.message === `--output ${path.join(file, 'sub')} cannot be created: a part of its path is a file, not a folder`);
    const full = path.join(tmp, 'full');
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, 'run.json'), '{}');
    assert.throws(() => ResultsStore.create(full), (e: unknown) => e instanceof BadInputError && /is not empty/.test(e.message));
    const store = ResultsStore.create(path.join(tmp, 'new', 'run'));
    assert.ok(fs.statSync(path.join(store.dir, 'steps')).isDirectory());
  });
});
