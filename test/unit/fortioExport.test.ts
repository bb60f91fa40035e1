import assert from 'node:assert/strict';
import { toFortioJson, type FortioResult } from '../../workloads/fortioExport';
import { fortioExportProblems } from '../helpers/fortioSchema';
import { FortioHistogram, fortioPercentile } from '../../workloads/fortioHistogram';
import { LatencyHistogram } from '../../workloads/latencyHistogram';
import type { HistogramRecord, LoadResult } from '../../workloads/loadResult';

function record(values: number[]): HistogramRecord {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return { ...h.summary(), histogram: h.encode() };
}

function sizes(values: number[], divider: number): ReturnType<FortioHistogram['export']> {
  const h = new FortioHistogram(0, divider);
  for (const v of values) h.record(v);
  return h.export();
}

/** 1000 answered calls (100..1099 µs, one a 503) and 2 connection resets of 5 ms. */
function resultWith(values: number[], patch: Partial<LoadResult> = {}): LoadResult {
  const errors = [5000, 5000];
  return {
    schemaVersion: 1, tool: 'meshbench', version: '0.1.0', startTime: '2026-11-25T00:00:00.000Z', labels: 'test',
    options: { url: 'http://127.0.0.1:8080/', protocol: 'http', mode: 'fixed-rate', qps: 1000, connections: 4, durationUs: 10_000_000, requests: null, warmupUs: 0, payloadBytes: 0, keepAlive: true, timeoutUs: 5_000_000, headers: [], maxPending: 5000, drainUs: 500_000 },
    actualDurationUs: 10_000_000, requestsCompleted: values.length, requestsFailed: 2, actualQps: values.length / 10,
    latency: record([...values, ...errors]), errorLatency: record([...values.slice(-1), ...errors]), successLatency: record(values.slice(0, -1)),
    serviceTime: record(values), sendLag: record(values), statusCounts: { 200: values.length - 1, 503: 1 }, errorsByKind: { ECONNRESET: 2 },
    socketsOpened: 5, bytesSent: 100, bytesReceived: 200, requestsUnsent: 0, requestsInFlightAtEnd: 0, requestsOverflowed: 0,
    responseBytes: sizes([...values.map(() => 150), 0, 0], 100), headerBytes: sizes([...values.map(() => 120), 0, 0], 5),
    requestsPerConnection: [250, 250, 251, 251], socketsPerConnection: [2, 1, 1, 1],
    ...patch,
  };
}

/** Every export a test makes is validated against the schema written from fortio's source. */
function exported(r: LoadResult): FortioResult {
  const f = toFortioJson(r);
  assert.deepEqual(fortioExportProblems(JSON.parse(JSON.stringify(f))), [], 'valid against fortio\'s schema');
  return f;
}

describe('fortio JSON export', () => {
  const values = Array.from({ length: 1000 }, (_, i) => 100 + i); // 100..1099 µs

  it('writes fortio field names, seconds and string QPS as fortio does', () => {
    const f = exported(resultWith(values));
    assert.equal(f.RunType, 'HTTP');
    assert.equal(f.RequestedQPS, '1000');
    assert.equal(f.RequestedDuration, '10s');
    assert.equal(f.ActualDuration, 10_000_000_000);
    assert.equal(f.NumThreads, 4);
    assert.equal(f.SocketCount, 5);
    assert.deepEqual(f.Sockets, [2, 1, 1, 1]);
    assert.equal(f.URL, 'http://127.0.0.1:8080/');
  });

  it('puts every call in DurationHistogram and socket errors under RetCodes["-1"], as fortio does', () => {
    const f = exported(resultWith(values));
    assert.deepEqual(f.RetCodes, { 200: 999, 503: 1, '-1': 2 });
    const h = f.DurationHistogram;
    assert.equal(h.Count, 1002);
    assert.equal(Object.values(f.RetCodes).reduce((a, b) => a + b, 0), h.Count);
    assert.equal(h.Min, 100e-6);
    assert.ok(Math.abs(h.Max - 5000e-6) < 5e-6, `max ${h.Max}`);
    // Errors (the 503 and both resets) are their own histogram, as fortio's ErrorsDurationHistogram.
    assert.equal(f.ErrorsDurationHistogram.Count, 3);
    // ActualQPS counts every call that went out, errors included.
    assert.ok(Math.abs(f.ActualQPS - 100.2) < 1e-9);
    const p50 = h.Percentiles?.find((p) => p.Percentile === 50);
    assert.ok(p50 !== undefined && Math.abs(p50.Value - 600e-6) < 3e-6, `p50 ${p50?.Value}`);
    // Buckets cover every value once, start at Min, end at Max and at 100 %.
    assert.equal(h.Data.reduce((n, d) => n + d.Count, 0), 1002);
    assert.equal(h.Data[0]?.Start, h.Min);
    assert.equal(h.Data[h.Data.length - 1]?.End, h.Max);
    assert.equal(h.Data[h.Data.length - 1]?.Percent, 100);
    for (const d of h.Data) assert.ok(d.Start <= d.End);
  });

  it('exports Sizes and HeaderSizes as fortio histograms of every call', () => {
    const f = exported(resultWith(values));
    assert.equal(f.Sizes?.Count, 1002);
    assert.equal(f.Sizes?.Max, 150);
    assert.equal(f.HeaderSizes?.Count, 1002);
    // fortio's size buckets: 0 alone (the failed calls), then ]100, 200] for 150 B with divider 100.
    assert.deepEqual(f.Sizes?.Data.map((d) => [d.Start, d.End, d.Count]), [[0, 0, 2], [100, 150, 1000]]);
  });

  it('keeps an all-failed run chartable: every call in Data, errors 100 %', () => {
    const r = resultWith([], {
      requestsCompleted: 0, requestsFailed: 5, statusCounts: {}, errorsByKind: { ECONNREFUSED: 5 },
      latency: record([300, 310, 320, 330, 340]), errorLatency: record([300, 310, 320, 330, 340]), successLatency: record([]),
    });
    const f = exported(r);
    assert.deepEqual(f.RetCodes, { '-1': 5 });
    assert.equal(f.DurationHistogram.Count, 5);
    assert.ok(f.DurationHistogram.Data.length > 0);
    assert.equal(f.ErrorsDurationHistogram.Count, f.DurationHistogram.Count);
  });

  it('writes two points for a run without a single call, as fortio does for a run that could not start', () => {
    const f = exported(resultWith([], { requestsCompleted: 0, requestsFailed: 0, statusCounts: {}, errorsByKind: {}, latency: record([]), errorLatency: record([]), successLatency: record([]) }));
    assert.equal(f.DurationHistogram.Count, 2);
    assert.ok(f.DurationHistogram.Data.length > 0);
  });

  it('labels max mode and exact request counts the fortio way', () => {
    const r = resultWith([5, 6, 7], { requestsFailed: 0, errorsByKind: {} });
    const f = exported({ ...r, options: { ...r.options, mode: 'max', qps: 0, requests: 3, durationUs: null, protocol: 'tcp', url: 'tcp://127.0.0.1:9/' }, latency: record([5, 6, 7]), errorLatency: record([]) });
    assert.equal(f.RequestedQPS, 'max');
    assert.equal(f.RequestedDuration, 'exactly 3 calls');
    assert.equal(f.RunType, 'TCP');
    assert.deepEqual(f.RetCodes, { OK: 3 });
    assert.equal(f.Destination, 'tcp://127.0.0.1:9/');
    assert.equal(f.Sizes, undefined);
  });
});

describe('fortio histogram (stats.Histogram port)', () => {
  it('puts values in fortio buckets ]prev, bound] × divider with Start at Min and End at Max', () => {
    const h = new FortioHistogram(0, 1);
    for (const v of [0, 1, 1.5, 2, 13, 150_000]) h.record(v);
    const e = h.export([50]);
    assert.deepEqual(e.Data.map((d) => [d.Start, d.End, d.Count]), [[0, 0, 1], [0, 1, 1], [1, 2, 2], [12, 14, 1], [100_000, 150_000, 1]]);
    assert.equal(e.Count, 6);
    assert.equal(e.Data[e.Data.length - 1]?.Percent, 100);
  });

  it('computes the standard deviation from n·v², where fortio RecordN adds (n·v)²', () => {
    const a = new FortioHistogram(0, 1);
    a.record(10, 4);
    a.record(20, 4);
    const e = a.export();
    assert.equal(e.Avg, 15);
    assert.equal(e.StdDev, 5);
  });

  it('interpolates percentiles inside a bucket as fortio CalcPercentile does', () => {
    const h = new FortioHistogram(0, 1);
    for (const v of [10, 20, 30]) h.record(v);
    const e = h.export();
    assert.equal(fortioPercentile(e, 100), 30);
    assert.equal(fortioPercentile(e, 10), 10);
  });
});

describe('fortio schema (from fortio\'s source)', () => {
  it('refuses what fortio\'s chart page could not draw', () => {
    const good = JSON.parse(JSON.stringify(toFortioJson(resultWith(Array.from({ length: 10 }, (_, i) => 100 + i))))) as Record<string, unknown>;
    assert.deepEqual(fortioExportProblems(good), []);
    const h = good.DurationHistogram as Record<string, unknown>;
    assert.ok(fortioExportProblems({ ...good, DurationHistogram: { ...h, Data: [] } }).length > 0, 'Count > 0 with empty Data');
    assert.ok(fortioExportProblems({ ...good, ActualDuration: 1.5 }).length > 0, 'ActualDuration is integer ns');
    assert.ok(fortioExportProblems({ ...good, SocketErrors: 3 }).length > 0, 'no field fortio does not have');
    assert.ok(fortioExportProblems({ ...good, RetCodes: { 200: 1 } }).length > 0, 'RetCodes must cover every call');
    const { Uniform: _u, ...noUniform } = good;
    assert.ok(fortioExportProblems(noUniform).length > 0, 'fields the report page reads are required');
  });
});
