import assert from 'node:assert/strict';
import { summarise } from '../../harness/results/summarise';
import { latencyAddedChart } from '../../reports/charts/latencyAddedChart';
import { latencyByDataPlaneChart, latencyVsConnectionsChart, latencyVsQpsChart } from '../../reports/charts/latencyPercentilesChart';
import { icicleRects, overheadBreakdownChart } from '../../reports/charts/overheadBreakdownChart';
import { perRequestCountersChart } from '../../reports/charts/perRequestCountersChart';
import { cpuPerThousandRequestsChart, memoryChart } from '../../reports/charts/resourcesChart';
import { reportCharts } from '../../reports/reportCharts';
import { stepRows } from '../../reports/stepRows';
import { syntheticRun } from '../helpers/syntheticRun';

type Json = Record<string, unknown>;
const data = (spec: unknown): Json[] => ((spec as { data: { values: Json[] } }).data.values);

describe('report charts (Vega-Lite specs)', () => {
  const sweep = syntheticRun({ runId: 'r', qps: [500, 1000, 2000], connections: [4, 16], repetitions: 3, samplesPerStep: 200 });
  const rows = stepRows('r', sweep.steps);
  const groups = summarise('r', 'complete', sweep.steps).groups;

  it('latency vs QPS: one point per step and percentile at the common connection count, facets per percentile, spread layer', () => {
    const c = latencyVsQpsChart(rows);
    assert.ok(c !== null);
    const values = data(c.spec);
    assert.equal(values.length, (sweep.steps.length / 2) * 4, 'steps at 4 connections × 4 percentiles');
    assert.deepEqual([...new Set(values.map((v) => v.percentile))], ['P50', 'P90', 'P99', 'P99.9']);
    assert.deepEqual([...new Set(values.map((v) => v.x))].sort((a, b) => Number(a) - Number(b)), [500, 1000, 2000]);
    const spec = c.spec as unknown as { facet: { column: { field: string } }; spec: { layer: Array<{ mark: { type: string } }>; encoding: { color: { scale: { domain: string[]; range: string[] } } } } };
    assert.equal(spec.facet.column.field, 'percentile');
    assert.deepEqual(spec.spec.layer.map((l) => l.mark.type), ['errorbar', 'line']);
    assert.deepEqual(spec.spec.encoding.color.scale.domain, ['baseline', 'sidecar', 'ambient', 'waypoint', 'kernel', 'dual']);
    assert.equal(spec.spec.encoding.color.scale.range[0], '#7f7f7f', 'baseline is grey in every chart');
  });

  it('latency vs connections exists with two connection counts; single-point runs get the per-data-plane chart instead', () => {
    assert.ok(latencyVsConnectionsChart(rows) !== null);
    const single = syntheticRun({ runId: 's', repetitions: 2, samplesPerStep: 100 });
    const singleRows = stepRows('s', single.steps);
    assert.equal(latencyVsQpsChart(singleRows), null);
    assert.equal(latencyVsConnectionsChart(singleRows), null);
    const ids = reportCharts(singleRows, summarise('s', 'complete', single.steps).groups).map((c) => c.id);
    assert.equal(ids[0], 'latency-by-dataplane');
    assert.equal(data(latencyByDataPlaneChart(singleRows).spec).length, single.steps.length * 4);
  });

  it('latency added: µs and % for P50 and P99, every data plane but baseline, with the repetition range', () => {
    const c = latencyAddedChart(groups);
    assert.ok(c !== null);
    const values = data(c.spec);
    assert.ok(values.every((v) => v.dataplane !== 'baseline'));
    assert.deepEqual([...new Set(values.map((v) => v.measure))].sort(), ['P50 added (%)', 'P50 added (µs)', 'P99 added (%)', 'P99 added (µs)']);
    const sidecar = values.find((v) => v.dataplane === 'sidecar' && v.measure === 'P50 added (%)' && v.load === '1000 qps × 4 conn');
    assert.ok(sidecar !== undefined && (sidecar.median as number) > 20 && (sidecar.median as number) < 45, 'the synthetic sidecar adds ~32 %');
    assert.ok((sidecar.min as number) <= (sidecar.median as number) && (sidecar.median as number) <= (sidecar.max as number));
  });

  it('CPU per 1,000 requests stacks components per data plane; memory is in MiB', () => {
    const cpu = cpuPerThousandRequestsChart(groups);
    assert.ok(cpu !== null);
    const spec = cpu.spec as unknown as { spec: { encoding: { y: { stack: string; aggregate: string }; color: { field: string } } } };
    assert.equal(spec.spec.encoding.y.stack, 'zero');
    assert.equal(spec.spec.encoding.color.field, 'component');
    const sidecarComponents = data(cpu.spec).filter((v) => v.dataplane === 'sidecar' && v.load === '1000 qps × 4 conn').map((v) => v.component).sort();
    assert.deepEqual(sidecarComponents, ['client', 'client-proxy', 'server', 'server-proxy']);
    const notOwn = new Set(['ebpf-dataplane']);
    const mem = memoryChart(groups, notOwn);
    assert.ok(mem !== null && data(mem.spec).every((v) => (v.value as number) > 10 && (v.value as number) < 100));
    // The eBPF data plane's run time is inside the client's and server's CPU: never stacked on top of it.
    const kernelCpu = cpuPerThousandRequestsChart(groups, notOwn);
    assert.ok(kernelCpu !== null && !data(kernelCpu.spec).some((v) => v.component === 'ebpf-dataplane'));
    const kernelRow = rows.find((r) => r.dataplane === 'kernel');
    const kernelStep = sweep.steps.find((st) => st.dataplane === 'kernel');
    assert.ok(kernelRow !== undefined && kernelStep !== undefined);
    assert.ok(Math.abs((kernelRow.cpuUsPerRequest ?? 0) - ((kernelStep.resources.client?.cpuUsPerRequest ?? 0) + (kernelStep.resources.server?.cpuUsPerRequest ?? 0))) < 1e-9);
    assert.ok((kernelRow.ebpfRunTimeUsPerRequest ?? 0) > 1);
  });

  it('per-request counters: connections, bytes copied, context switches, syscalls; none without probes', () => {
    const c = perRequestCountersChart(rows);
    assert.ok(c !== null);
    const counters = new Set(data(c.spec).map((v) => v.counter));
    for (const k of ['bytes copied / request', 'context switches / request', 'TCP connections opened / request', 'syscalls / request']) assert.ok(counters.has(k), k);
    const noProbes = rows.map((r) => ({ ...r, connectionsOnPath: null, connectionsPerRequest: null, bytesCopiedPerRequest: null, contextSwitchesPerRequest: null, syscallsPerRequest: null }));
    assert.equal(perRequestCountersChart(noProbes), null);
  });

  it('overhead icicle: three levels that partition the gross extra CPU, unexplained share in the top label', () => {
    const g = groups.find((x) => x.dataplane === 'sidecar' && x.breakdown !== null);
    assert.ok(g?.breakdown);
    const rects = icicleRects('p', g.breakdown);
    const top = rects.filter((r) => r.level === 'extra CPU');
    assert.equal(top.length, 1);
    assert.match(top[0]?.label ?? '', /µs\/req, \d+% unexplained/);
    const sum = (level: string): number => rects.filter((r) => r.level === level).reduce((a, r) => a + (r.x1 - r.x0), 0);
    assert.ok(Math.abs(sum('category') - 100) < 1e-6);
    assert.ok(Math.abs(sum('component') - 100) < 1e-6);
    const proxy = rects.find((r) => r.level === 'category' && r.name === 'proxy-userspace');
    assert.ok(proxy !== undefined && proxy.valueUs > 10, 'haproxy user-space frames land in proxy-userspace');
    const chart = overheadBreakdownChart(groups);
    assert.ok(chart !== null);
    assert.ok(data(chart.spec).every((v) => !String(v.panel).startsWith('baseline')));
    assert.match(chart.caption, /Grey is what the rules could not explain/);
  });
});
