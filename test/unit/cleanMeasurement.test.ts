import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { MeasurementKind, StepRecord } from '../../harness/results/resultTypes';
import { summarise } from '../../harness/results/summarise';
import { formatSummaryText } from '../../harness/results/summaryText';
import { noiseFingerprint, parseProcStat, commonParent, type NoiseReading } from '../../harness/resources/noiseFingerprint';
import { harnessCpuPlan, offlinePinning, pinnedCpus, pinnedRoles } from '../../harness/runner/harnessCpus';
import { parseProfile } from '../../harness/profile/profileLoad';
import { compareRuns } from '../../reports/compare/compareRuns';
import { markdownSummary } from '../../reports/markdownSummary';
import { perturbationChart } from '../../reports/charts/perturbationChart';
import { syntheticRun } from '../helpers/syntheticRun';

/*
 * Clean and instrumented repetitions as the readers see them (summary, text, report, compare), the noise
 * fingerprint and the harness's CPUs: pure functions on synthetic records.
 */

/** Each synthetic step twice: a clean copy (no probes, no stacks) and an instrumented one whose CPU and latency are `factor` higher. */
function withKinds(steps: readonly StepRecord[], factor: number): StepRecord[] {
  const out: StepRecord[] = [];
  for (const s of steps) {
    const clean: StepRecord = { ...s, measurement: 'clean' as MeasurementKind, probes: { available: false, unavailableReason: 'clean repetition', figures: {}, detail: {}, foldedStacks: {} }, ebpf: null };
    const scaledLatency = { ...s.load.latency, percentilesUs: Object.fromEntries(Object.entries(s.load.latency.percentilesUs).map(([k, v]) => [k, v === null ? null : v * factor])) };
    const resources = Object.fromEntries(Object.entries(s.resources).map(([k, r]) => [k, { ...r, cpuUsPerRequest: r.cpuUsPerRequest === null ? null : r.cpuUsPerRequest * factor }]));
    const instrumented: StepRecord = { ...s, id: s.id.replace(/-r(\d+)$/, '-i$1'), measurement: 'instrumented', load: { ...s.load, latency: scaledLatency }, resources };
    out.push(clean, instrumented);
  }
  return out.map((s, i) => ({ ...s, index: i + 1 }));
}

describe('clean and instrumented repetitions in the summary', () => {
  const base = syntheticRun({ runId: 'r1', dataplanes: ['baseline', 'sidecar', 'kernel'], repetitions: 1 });
  const steps = withKinds(base.steps, 1.1);

  it('headline figures come from the clean repetitions only; the perturbation is instrumented against clean', () => {
    const s = summarise('r1', 'complete', steps);
    assert.equal(s.groups.length, 3);
    for (const g of s.groups) {
      assert.equal(g.repetitions, 1, `${g.dataplane}: the instrumented repetition is not a headline repetition`);
      const clean = steps.find((x) => x.dataplane === g.dataplane && x.measurement === 'clean');
      assert.equal(g.latencyP99Us?.median, clean?.load.latency.percentilesUs['99']);
      const p = g.perturbation;
      assert.ok(p !== null && p !== undefined, g.dataplane);
      assert.ok(Math.abs((p.cpuUsPerRequest.deltaPct ?? 0) - 10) < 1e-6, `${p.cpuUsPerRequest.deltaPct}`);
      assert.ok(Math.abs((p.latencyP99Us.deltaPct ?? 0) - 10) < 1e-6);
      assert.equal(p.cleanRepetitions, 1);
      assert.equal(p.instrumentedRepetitions, 1);
    }
  });

  it('the breakdown and the eBPF program time come from the instrumented repetitions (the clean ones have no stacks)', () => {
    const s = summarise('r1', 'complete', steps);
    const sidecar = s.groups.find((g) => g.dataplane === 'sidecar');
    assert.ok(sidecar?.breakdown !== null && sidecar?.breakdown !== undefined);
    assert.ok(sidecar.breakdown.explainedShare > 0.5, `explained ${sidecar.breakdown.explainedShare}: classified from the instrumented stacks`);
    const kernel = s.groups.find((g) => g.dataplane === 'kernel');
    assert.ok(kernel?.ebpfRunTimeUsPerRequest !== null && kernel?.ebpfRunTimeUsPerRequest !== undefined, 'program time from the instrumented step');
  });

  it('prints, reports and charts the perturbation for every data plane; older (inline) results have none', () => {
    const s = summarise('r1', 'complete', steps);
    const text = formatSummaryText(s);
    const table = text.slice(text.indexOf('perturbation:'));
    for (const dp of ['baseline', 'sidecar', 'kernel']) assert.match(table, new RegExp(`\\n${dp} +.*\\(\\+10\\.0%\\)`), dp);
    const md = markdownSummary({ run: base.run, groups: s.groups, charts: [], chartFiles: {}, flameGraphFiles: [], probeNote: null });
    assert.match(md, /## Perturbation/);
    assert.match(md, /\| sidecar \| .* \| 1 \/ 1 \|/);
    const chart = perturbationChart(s.groups);
    assert.equal((chart?.spec.data as { values: unknown[] }).values.length, 3 * 3);
    const inline = summarise('r0', 'complete', base.steps);
    assert.ok(inline.groups.every((g) => g.perturbation === null));
    assert.equal(perturbationChart(inline.groups), null);
    assert.doesNotMatch(formatSummaryText(inline), /perturbation/);
  });

  it('compare gates the clean repetitions only: instrumented ones 30 % slower move no verdict', () => {
    const five = syntheticRun({ runId: 'r5', dataplanes: ['baseline', 'sidecar'], repetitions: 5, gates: { 'latency.p99': '+5%', 'cpu.perRequest': '+5%' } });
    const head = { dir: 'head', run: { ...five.run, runId: 'head' }, steps: withKinds(five.steps, 1.3) };
    const baseRun = { dir: 'base', run: five.run, steps: withKinds(five.steps, 1.0) };
    const v = compareRuns(baseRun, head);
    assert.ok(v.rows.length > 0);
    assert.ok(v.rows.every((r) => r.verdict !== 'regression'), JSON.stringify(v.rows.filter((r) => r.verdict === 'regression').map((r) => `${r.dataplane} ${r.metric}`)));
    // the head's instrumented repetitions read as inline ones (meshbench 0.1): they count, and are caught
    const asInline = (steps: readonly StepRecord[]): StepRecord[] => steps.map((s) => ({ ...s, measurement: undefined }));
    const inline = compareRuns(baseRun, { ...head, steps: asInline(head.steps.filter((s) => s.measurement === 'instrumented')) });
    assert.ok(inline.rows.some((r) => r.verdict === 'regression'), 'the check can fail');
  });

  it('flags noisy repetitions in the summary text', () => {
    const noisy = steps.map((s, i) => (i === 0 ? { ...s, noise: { windowUs: 1e6, cpus: 2, stealUs: 0, stealShare: 0, outsideCpuUs: 5e5, outsideShare: 0.25, irqUs: 0, harnessCpuUs: 0, flags: ['CPU used outside meshbench 25.0% of the machine (threshold 10%)'] } } : s));
    const text = formatSummaryText(summarise('r1', 'complete', noisy));
    assert.match(text, /noisy repetitions \(1\)/);
    assert.match(text, /⚠ baseline-.*-r1: CPU used outside meshbench 25\.0%/);
  });
});

describe('noise fingerprint', () => {
  const stat = (user: number, system: number, steal: number, softirq = 0): string => `cpu  ${user} 0 ${system} 1000 0 0 ${softirq} ${steal} 0 0\ncpu0 1 2 3\n`;

  it('parses /proc/stat in USER_HZ ticks into µs', () => {
    const t = parseProcStat(stat(100, 50, 7, 3));
    assert.equal(t.userUs, 1_000_000);
    assert.equal(t.systemUs, 500_000);
    assert.equal(t.stealUs, 70_000);
    assert.equal(t.softirqUs, 30_000);
    assert.throws(() => parseProcStat('intr 1\n'), /no aggregate cpu line/);
  });

  it('CPU outside the run\'s cgroups and the harness, and steal, as shares of the machine; flagged above the thresholds', () => {
    const at = (us: number, s: string, run: number, harness: number): NoiseReading => ({ atUs: us, machine: parseProcStat(s), runCgroupUs: run, harnessUs: harness });
    // 1 s on 2 CPUs: the run used 0.6 s, the harness 0.1 s, the machine was busy 1.0 s → 0.3 s elsewhere (15 %)
    const noisy = noiseFingerprint(at(0, stat(0, 0, 0), 0, 0), at(1e6, stat(60, 40, 6), 600_000, 100_000), 2);
    assert.equal(noisy.outsideCpuUs, 300_000);
    assert.ok(Math.abs(noisy.outsideShare - 0.15) < 1e-9);
    assert.ok(Math.abs(noisy.stealShare - 0.03) < 1e-9);
    assert.equal(noisy.harnessCpuUs, 100_000);
    assert.equal(noisy.flags.length, 2, noisy.flags.join('; '));
    // The other work is weighed against the run's own share, and irq+softirq (a neighbour's packets) beside it.
    assert.equal(noisy.flags[1], 'CPU used outside meshbench 15.0% of the machine (threshold 10%; the run\'s own cgroups 30.0%, irq+softirq 0.0%)');
    const quiet = noiseFingerprint(at(0, stat(0, 0, 0), 0, 0), at(1e6, stat(70, 0, 0), 650_000, 40_000), 2);
    assert.deepEqual(quiet.flags, []);
    assert.equal(quiet.outsideCpuUs, 10_000);
  });

  it('finds the run\'s cgroup root above the components', () => {
    assert.equal(commonParent(['/cg/meshbench/run-1/node1/client', '/cg/meshbench/run-1/node2/server']), '/cg/meshbench/run-1');
    assert.equal(commonParent([]), null);
  });
});

describe('harness CPUs under cpuPinning', () => {
  it('reads on CPUs no measured process is pinned to, or says none is free', () => {
    const p = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {client: 0, server: "1", proxies: "1-2"}\n', 't.yaml');
    assert.deepEqual([...(pinnedCpus(p) ?? [])].sort(), [0, 1, 2]);
    assert.deepEqual(harnessCpuPlan(pinnedCpus(p), [0, 1, 2, 3]).cpus, [3]);
    const none = harnessCpuPlan(pinnedCpus(p), [0, 1, 2]);
    assert.equal(none.cpus, null);
    assert.match(none.note ?? '', /shares CPUs 0,1,2 with the pinned measured processes/);
    assert.equal(harnessCpuPlan(pinnedCpus(p), [0, 1, 2], pinnedRoles(p)).note,
      'harness reading shares CPUs 0,1,2 with the pinned client on 0, server on 1, proxies on 1,2 (no online CPU is left unpinned): pin them to fewer CPUs to leave one free for the harness');
    assert.deepEqual(harnessCpuPlan(null, [0, 1]), { cpus: null, note: null });
  });

  it('the shipped search.yaml on 2 CPUs: the note says where the client and server are and that no CPU can be left free; advice only where it can be followed', () => {
    const file = path.join(__dirname, '..', '..', '..', 'profiles', 'search.yaml');
    const search = parseProfile(fs.readFileSync(file, 'utf8'), file);
    assert.equal(harnessCpuPlan(pinnedCpus(search), [0, 1], pinnedRoles(search)).note,
      'harness reading shares CPUs 0,1 with the pinned client on 0, server on 1 (no online CPU is left unpinned): each of the 2 pinned roles has a CPU of its own, so none can be left free for it without two roles sharing one');
    assert.deepEqual(harnessCpuPlan(pinnedCpus(search), [0, 1, 2, 3], pinnedRoles(search)).cpus, [2, 3], 'with a CPU free the harness moves there');
    const wide = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {client: "0-1", server: "0-1"}\n', 't.yaml');
    assert.match(harnessCpuPlan(pinnedCpus(wide), [0, 1], pinnedRoles(wide)).note ?? '', /: pin them to fewer CPUs to leave one free for the harness$/, 'client and server already share 0-1');
    // A fresh user's case: client and server share CPU 0, so the proxies could join them and free CPU 1.
    const shared = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {client: 0, server: 0, proxies: 1}\n', 't.yaml');
    assert.match(harnessCpuPlan(pinnedCpus(shared), [0, 1], pinnedRoles(shared)).note ?? '', /client on 0, server on 0, proxies on 1 .*: pin them to fewer CPUs to leave one free for the harness$/);
    const own = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {client: 0, server: 1, proxies: 2}\n', 't.yaml');
    assert.match(harnessCpuPlan(pinnedCpus(own), [0, 1, 2], pinnedRoles(own)).note ?? '', /each of the 3 pinned roles has a CPU of its own/);
    const wideProxies = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {client: 0, server: 1, proxies: "2-3"}\n', 't.yaml');
    assert.match(harnessCpuPlan(pinnedCpus(wideProxies), [0, 1, 2, 3], pinnedRoles(wideProxies)).note ?? '', /pin them to fewer CPUs/, 'the proxies can be narrowed to one CPU');
    const proxiesOnly = parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: {proxies: "0-1"}\n', 't.yaml');
    assert.match(harnessCpuPlan(pinnedCpus(proxiesOnly), [0, 1], pinnedRoles(proxiesOnly)).note ?? '', /with the pinned proxies on 0,1 .*: pin them to fewer CPUs to leave one free for the harness$/);
  });

  it('names a pinned CPU the machine does not have (checked before anything is deployed)', () => {
    const pin = (v: string): ReturnType<typeof parseProfile> => parseProfile(`name: t\ndataplanes: [baseline]\nduration: 1s\ncpuPinning: ${v}\n`, 't.yaml');
    assert.equal(offlinePinning(pin('{client: 0, server: 1}'), [0, 1]), null);
    assert.equal(offlinePinning(pin('{client: 7, server: 1}'), [0, 1]), 'cpuPinning.client: CPU 7 is not online (online: 0,1)');
    assert.equal(offlinePinning(pin('{client: 0, server: "1-64"}'), [0, 1]), 'cpuPinning.server: CPU 2, 3, 4 … 64 are not online (online: 0,1)');
    assert.equal(offlinePinning(pin('{proxies: "0,3"}'), [0, 1]), 'cpuPinning.proxies: CPU 3 is not online (online: 0,1)');
    assert.equal(offlinePinning(parseProfile('name: t\ndataplanes: [baseline]\nduration: 1s\n', 't.yaml'), [0]), null);
  });

  it('proxies: workload pins no CPU of its own (the client\'s and server\'s are listed); another word is bad input', () => {
    const p = parseProfile('name: t\ndataplanes: [sidecar]\nduration: 1s\ncpuPinning: {client: 0, server: 1, proxies: workload}\n', 't.yaml');
    assert.equal(p.cpuPinning?.proxies, 'workload');
    assert.deepEqual([...(pinnedCpus(p) ?? [])].sort(), [0, 1]);
    assert.equal(offlinePinning(p, [0, 1]), null);
    assert.equal(offlinePinning(parseProfile('name: t\ndataplanes: [sidecar]\nduration: 1s\ncpuPinning: {client: 3, proxies: workload}\n', 't.yaml'), [0, 1]), 'cpuPinning.client: CPU 3 is not online (online: 0,1)');
    assert.throws(() => parseProfile('name: t\ndataplanes: [sidecar]\nduration: 1s\ncpuPinning: {proxies: node}\n', 't.yaml'), /cpuPinning\.proxies/);
  });
});
