import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EbpfCostMeter, type BpftoolJson } from '../../harness/resources/bpfCost';
import { summarise } from '../../harness/results/summarise';
import { formatSummaryText } from '../../harness/results/summaryText';
import { markdownSummary } from '../../reports/markdownSummary';
import { syntheticRun } from '../helpers/syntheticRun';

/*
 * Issue 13, found #5: the eBPF data plane's program time read 0 µs when bpftool or bpf_stats failed. It is
 * now null with the reason, in the step record and in the printed summary.
 */
describe('eBPF data plane cost meter', () => {
  let dir: string;
  let sysctl: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bpfcost-'));
    sysctl = path.join(dir, 'bpf_stats_enabled');
    fs.writeFileSync(sysctl, '0\n');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A bpftool whose program counters advance by 5000 ns and 10 runs per read. */
  const counting = (): BpftoolJson => {
    let reads = 0;
    return (args) => {
      if (args[0] === 'prog') {
        reads += 1;
        return { ok: true, value: { id: Number(args[3]), run_time_ns: 5000 * reads, run_cnt: 10 * reads } };
      }
      return { ok: true, value: { id: Number(args[3]), bytes_memlock: 4096 } };
    };
  };

  it('measures run time over the window with bpf_stats on, and puts the sysctl back', () => {
    const m = new EbpfCostMeter({ progIds: [7], mapIds: [3] }, { statsSysctlFile: sysctl, bpftool: counting() });
    m.start();
    assert.equal(fs.readFileSync(sysctl, 'utf8'), '1');
    const c = m.stop(10);
    assert.equal(fs.readFileSync(sysctl, 'utf8'), '0');
    assert.equal(c.runTimeNs, 5000);
    assert.equal(c.runCount, 10);
    assert.equal(c.runTimeUsPerRequest, 0.5);
    assert.equal(c.mapMemoryBytes, 4096);
    assert.match(c.runTimeSource, /^bpf_stats/);
  });

  it('is null with the reason, never 0, when bpftool fails', () => {
    const failing: BpftoolJson = (args) => ({ ok: false, reason: `bpftool ${args.join(' ')} exited 255: Error: get by id (7): No such file or directory` });
    const m = new EbpfCostMeter({ progIds: [7], mapIds: [3] }, { statsSysctlFile: sysctl, bpftool: failing });
    m.start();
    const c = m.stop(1000);
    assert.equal(c.runTimeNs, null);
    assert.equal(c.runCount, null);
    assert.equal(c.runTimeUsPerRequest, null);
    assert.equal(c.mapMemoryBytes, null);
    assert.match(c.runTimeSource, /^unavailable: bpftool prog show id 7 exited 255/);
    assert.match(c.mapMemoryUnavailableReason ?? '', /bpftool map show id 3/);
  });

  it('is null with the reason when bpf_stats cannot be switched on', () => {
    const m = new EbpfCostMeter({ progIds: [7], mapIds: [] }, { statsSysctlFile: path.join(dir, 'absent', 'bpf_stats_enabled'), bpftool: counting() });
    m.start();
    const c = m.stop(10);
    assert.equal(c.runTimeUsPerRequest, null);
    assert.equal(c.runTimeNs, null);
    assert.match(c.runTimeSource, /unavailable: kernel\.bpf_stats_enabled could not be set \(ENOENT\)/);
  });

  it('is null with "none" and the run count, not 0 µs, when the programs never ran in the window', () => {
    const idle: BpftoolJson = (args) => (args[0] === 'prog' ? { ok: true, value: { id: Number(args[3]), run_time_ns: 1234, run_cnt: 3 } } : { ok: true, value: { id: Number(args[3]), bytes_memlock: 4096 } });
    const m = new EbpfCostMeter({ progIds: [7, 8], mapIds: [3] }, { statsSysctlFile: sysctl, bpftool: idle });
    m.start();
    const c = m.stop(500);
    assert.equal(c.runCount, 0);
    assert.equal(c.runTimeNs, 0, 'the counters were read: 0 ns is what they say');
    assert.equal(c.runTimeUsPerRequest, null);
    assert.equal(c.runTimeSource, 'none: the 2 eBPF programs ran 0 times in the measured window (run count 0): none of their events came in it (sockops and connect hooks run per connection, and kept-alive connections open before the window)');
    const run = syntheticRun({ runId: 'r', seed: 3, dataplanes: ['baseline', 'kernel'], repetitions: 1 });
    const steps = run.steps.map((s) => (s.ebpf === null ? s : { ...s, ebpf: { ...s.ebpf, ...c } }));
    const summary = summarise('r', 'complete', steps);
    const text = formatSummaryText(summary);
    assert.match(text, /ebpf-dataplane: programs run time none \(the 2 eBPF programs ran 0 times in the measured window \(run count 0\)/);
    assert.doesNotMatch(text, /programs 0\.00 µs/);
    const md = markdownSummary({ run: run.run, groups: summary.groups, charts: [], chartFiles: {}, flameGraphFiles: [], probeNote: null });
    assert.match(md, /none \(the 2 eBPF programs ran 0 times/);
    assert.doesNotMatch(md, /not measured \(none: /);
  });

  it('the run summary says "not measured" and why, not 0 µs', () => {
    const run = syntheticRun({ runId: 'r', seed: 3, dataplanes: ['baseline', 'kernel'], repetitions: 1 });
    const steps = run.steps.map((s) => (s.ebpf === null ? s : { ...s, ebpf: { ...s.ebpf, runTimeNs: null, runCount: null, runTimeUsPerRequest: null, runTimeSource: 'unavailable: bpftool is not installed (apt-get install bpftool)' } }));
    const summary = summarise('r', 'complete', steps);
    const kernel = summary.groups.find((g) => g.dataplane === 'kernel');
    assert.equal(kernel?.ebpfRunTimeUsPerRequest, null);
    const text = formatSummaryText(summary);
    assert.match(text, /ebpf-dataplane: programs run time not measured \(unavailable: bpftool is not installed/);
    assert.doesNotMatch(text, /programs 0\.00 µs/);
  });
});
