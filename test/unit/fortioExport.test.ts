import assert from 'node:assert/strict';
import { toFortioJson } from '../../workloads/fortioExport';
import { LatencyHistogram } from '../../workloads/latencyHistogram';
import type { LoadResult } from '../../workloads/loadResult';

function resultWith(values: number[]): LoadResult {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  const rec = { ...h.summary(), histogram: h.encode() };
  return {
    schemaVersion: 1, tool: 'meshbench', version: '0.1.0', startTime: '2026-11-25T00:00:00.000Z', labels: 'test',
    options: { url: 'http://127.0.0.1:8080/', protocol: 'http', mode: 'fixed-rate', qps: 1000, connections: 4, durationUs: 10_000_000, requests: null, warmupUs: 0, payloadBytes: 0, keepAlive: true, timeoutUs: 5_000_000, headers: [] },
    actualDurationUs: 10_000_000, requestsCompleted: values.length, requestsFailed: 2, actualQps: values.length / 10,
    latency: rec, serviceTime: rec, sendLag: rec, statusCounts: { 200: values.length - 1, 503: 1 }, errorsByKind: { ECONNRESET: 2 },
    socketsOpened: 4, bytesSent: 100, bytesReceived: 200, requestsUnsent: 0,
  };
}

describe('fortio JSON export', () => {
  it('writes fortio field names, seconds and string QPS as fortio does', () => {
    const values = Array.from({ length: 1000 }, (_, i) => 100 + i); // 100..1099 µs
    const f = toFortioJson(resultWith(values));
    assert.equal(f.RunType, 'HTTP');
    assert.equal(f.RequestedQPS, '1000');
    assert.equal(f.RequestedDuration, '10s');
    assert.equal(f.ActualDuration, 10_000_000_000);
    assert.equal(f.NumThreads, 4);
    assert.deepEqual(f.RetCodes, { 200: 999, 503: 1 });
    assert.equal(f.SocketCount, 4);
    assert.equal(f.URL, 'http://127.0.0.1:8080/');
    const h = f.DurationHistogram;
    assert.equal(h.Count, 1000);
    assert.equal(h.Min, 100e-6);
    assert.ok(Math.abs(h.Max - 1099e-6) < 1e-6);
    assert.ok(Math.abs(h.Avg - 599.5e-6) < 1e-6);
    const p50 = h.Percentiles.find((p) => p.Percentile === 50);
    assert.ok(p50 !== undefined && Math.abs(p50.Value - 599e-6) < 2e-6);
    // Buckets cover every value once and end at 100 %.
    assert.equal(h.Data.reduce((n, d) => n + d.Count, 0), 1000);
    assert.equal(h.Data[h.Data.length - 1]?.Percent, 100);
    for (const d of h.Data) assert.ok(d.Start <= d.End);
  });

  it('labels max mode and exact request counts the fortio way', () => {
    const r = resultWith([5, 6, 7]);
    const f = toFortioJson({ ...r, options: { ...r.options, mode: 'max', qps: 0, requests: 3, durationUs: null, protocol: 'tcp', url: 'tcp://127.0.0.1:9/' } });
    assert.equal(f.RequestedQPS, 'max');
    assert.equal(f.RequestedDuration, 'exactly 3 calls');
    assert.equal(f.RunType, 'TCP');
    assert.deepEqual(f.RetCodes, { OK: 3 });
    assert.equal(f.Destination, 'tcp://127.0.0.1:9/');
  });
});
