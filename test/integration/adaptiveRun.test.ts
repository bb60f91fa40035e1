import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../../harness/profile/profileLoad';
import type { DataPlaneName } from '../../harness/profile/profileSchema';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import type { StepRecord } from '../../harness/results/resultTypes';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';
import { formatSummaryText } from '../../harness/results/summaryText';
import type { DeployedDataPlane, PlatformSession, Placement } from '../../harness/runner/platformSession';
import { Runner, type RunnerEvents, type StepRunner } from '../../harness/runner/runner';
import { stepId, type PlannedStep } from '../../harness/runner/stepPlan';
import { writeReport } from '../../reports/writeReport';
import { syntheticRun } from '../helpers/syntheticRun';
import { checkReportInChromium, chromiumMissing } from '../helpers/browserCheck';

/**
 * The runner's dynamic plan (repetitions until the answer is clear, the rate search) driven by an injected
 * step runner: every step is a synthetic record with the latency the test chooses, so nothing touches the
 * machine (no namespaces, cgroups or processes), and the run still goes through the real runner, results
 * store, summary and report.
 */
class FakePlatform implements PlatformSession {
  readonly name = 'fake';
  deployed: string[] = [];
  removed = 0;
  async deploy(dataplane: DataPlaneName, placement: Placement): Promise<DeployedDataPlane> {
    this.deployed.push(dataplane);
    return { dataplane, placement, targetUrl: 'http://fake/', components: [], runLoad: () => Promise.reject(new Error('not here')), connectionsOnPath: async () => null };
  }
  async remove(): Promise<void> { this.removed += 1; }
  async versions(): Promise<Record<string, string>> { return { fake: '1' }; }
  async close(): Promise<void> { /* nothing was created */ }
}

const quiet: RunnerEvents = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };
const template = syntheticRun({ runId: 't', dataplanes: ['baseline', 'sidecar'], repetitions: 1, samplesPerStep: 50, withStacks: false });

/** A record for a planned step with the P99 (µs), error count and achieved rate the test chooses. */
function record(step: PlannedStep, p99Us: number, errors = 0, achievedQps = step.loadPoint.qps): StepRecord {
  const base = template.steps.find((s) => s.dataplane === step.dataplane) as StepRecord;
  const requests = Math.max(1, Math.round(step.loadPoint.qps * 2));
  return {
    ...base, index: step.index, id: stepId(step), dataplane: step.dataplane, placement: step.placement, loadPoint: step.loadPoint,
    repetition: step.repetition, measurement: step.measurement,
    load: {
      ...base.load, actualQps: achievedQps, requestsFailed: errors,
      latency: { ...base.load.latency, count: requests, maxUs: p99Us * 1.4, percentilesUs: { ...base.load.latency.percentilesUs, 50: p99Us / 5, 99: p99Us } },
      errorLatency: { ...base.load.errorLatency, count: errors },
    },
    ...(step.search === undefined ? {} : { search: { probe: step.search.probe, config: step.search.config } }),
  };
}

async function run(profileText: string, stepRunner: StepRunner, dir: string): Promise<{ outcome: Awaited<ReturnType<Runner['run']>>; platform: FakePlatform; store: ResultsStore }> {
  const profile = parseProfile(profileText, 't.yaml');
  const platform = new FakePlatform();
  const store = ResultsStore.create(dir);
  const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text: profileText }, platform, undefined, store, quiet, 'run-x', undefined, stepRunner).run(new AbortController().signal);
  return { outcome, platform, store };
}

describe('adaptive runs (injected step runner: no system state)', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-adaptive-')); });
  afterEach(() => { if (process.env.KEEP_TMP === undefined) fs.rmSync(tmp, { recursive: true, force: true }); else console.log(tmp); });

  const adaptive = (extra = ''): string => `name: t\ndataplanes: [sidecar, baseline]\nduration: 1s\nrepetitions: {min: 3, max: 8, until: 5%}\nprobes: {enabled: false}\n${extra}`;

  it('repetitions {until: 5%}: a quiet point stops at min, a noisy one runs to max, and the summary says which', async () => {
    const random = seededRandom(7);
    // baseline: P99 within ±0.5 %; sidecar: P99 log-normal with a 40 % spread, never within ±5 %.
    const steps: StepRunner = async (step) => record(step, step.dataplane === 'baseline' ? 1000 * (1 + 0.005 * gaussian(random)) : 2000 * Math.exp(0.4 * gaussian(random)));
    const { outcome, platform } = await run(adaptive(), steps, path.join(tmp, 'a'));
    const loaded = loadRun(path.join(tmp, 'a'));
    const count = (dp: string): number => loaded.steps.filter((s) => s.dataplane === dp).length;
    assert.equal(count('baseline'), 3, 'quiet: stopped at min');
    assert.equal(count('sidecar'), 8, 'noisy: ran to max');
    assert.deepEqual(loaded.steps.slice(0, 6).map((s) => `${s.dataplane}r${s.repetition}`), ['baseliner1', 'sidecarr1', 'baseliner2', 'sidecarr2', 'baseliner3', 'sidecarr3'], 'the min rounds interleaved, baseline first');
    assert.deepEqual(loaded.steps.slice(6).map((s) => `${s.dataplane}r${s.repetition}`), ['sidecarr4', 'sidecarr5', 'sidecarr6', 'sidecarr7', 'sidecarr8'], 'then one round at a time for the unsettled point');
    assert.deepEqual(loaded.steps.map((s) => s.index), loaded.steps.map((_, i) => i + 1), 'numbered in the order run');
    assert.equal(platform.deployed.length, 11, 'interleaved: a deployment per data plane per round');
    assert.equal(loaded.run.stepsPlanned, 11);
    assert.equal(loaded.run.status, 'complete');
    const byDp = new Map(outcome.summary.groups.map((g) => [g.dataplane, g]));
    assert.equal(byDp.get('baseline')?.repetitionVerdict?.settled, true);
    assert.equal(byDp.get('baseline')?.repetitionVerdict?.reachedMax, false);
    assert.equal(byDp.get('sidecar')?.repetitionVerdict?.settled, false);
    assert.equal(byDp.get('sidecar')?.repetitionVerdict?.reachedMax, true);
    const text = formatSummaryText(outcome.summary);
    assert.match(text, /baseline cross-node 1000 qps c4: 3 repetitions: P99 interval ±\d\.\d% of its median \(≤ ±5\.0%\): settled/);
    assert.match(text, /⚠ sidecar cross-node 1000 qps c4: 8 repetitions \(max 8 reached\): P99 interval ±\d+\.\d% of its median \(> ±5\.0%\): not settled/);
    const onDisk = JSON.parse(fs.readFileSync(path.join(tmp, 'a', 'summary.json'), 'utf8')) as typeof outcome.summary;
    assert.equal(onDisk.groups.find((g) => g.dataplane === 'sidecar')?.repetitionVerdict?.reachedMax, true, 'summary.json holds the verdict');
  });

  it('without interleave, the extra repetitions run on the data plane\'s deployment still standing; a plain number keeps a fixed count', async () => {
    const random = seededRandom(3);
    const steps: StepRunner = async (step) => record(step, step.dataplane === 'baseline' ? 1000 : 2000 * Math.exp(0.4 * gaussian(random)));
    const { platform } = await run(adaptive('interleave: false\n'), steps, path.join(tmp, 'b'));
    assert.deepEqual(platform.deployed, ['baseline', 'sidecar'], 'one deployment per data plane');
    const loaded = loadRun(path.join(tmp, 'b'));
    assert.deepEqual(loaded.steps.map((s) => s.dataplane), ['baseline', 'baseline', 'baseline', ...Array<string>(8).fill('sidecar')]);
    const fixed = await run('name: t\ndataplanes: [baseline, sidecar]\nduration: 1s\nrepetitions: 4\nprobes: {enabled: false}\n', steps, path.join(tmp, 'c'));
    assert.equal(loadRun(path.join(tmp, 'c')).steps.length, 8, 'fixed: 4 each, noisy or not');
    assert.equal(fixed.outcome.summary.groups[0]?.repetitionVerdict, undefined, 'no verdict without until');
  });

  it('load.search: each data plane searched on its own deployment, probes out of the headline, the summary and report hold the answer', async () => {
    // M/M/1 queues: P99 = ln(100) / (capacity − rate); baseline carries 12,000 req/s, sidecar 6,000.
    const capacity: Record<string, number> = { baseline: 12_000, sidecar: 6_000 };
    const windows: Array<[number, number]> = [];
    const steps: StepRunner = async (step) => {
      if (step.search === undefined) return record(step, 900);
      windows.push([step.loadPoint.qps, step.search.durationUs]);
      const c = capacity[step.dataplane] as number;
      const q = step.loadPoint.qps;
      if (q >= c) return record(step, 3_000_000, Math.round(q * 2 * ((q - c) / q + 0.01)), c);
      return record(step, (1e6 * Math.log(100)) / (c - q));
    };
    const text = `name: t\ndataplanes: [sidecar, baseline]\nduration: 1s\nload: {qps: [1000], connections: [8], search: {p99: 5ms, errors: 0.1%, from: 500, to: 200000, duration: 500ms}}\nprobes: {enabled: false}\n`;
    const { outcome, platform } = await run(text, steps, path.join(tmp, 's'));
    const loaded = loadRun(path.join(tmp, 's'));
    const searches = outcome.summary.searches ?? [];
    assert.deepEqual(searches.map((s) => s.dataplane), ['baseline', 'sidecar']);
    for (const s of searches) {
      assert.ok(s.probes.length <= 12, `${s.dataplane}: ${s.probes.length} probes`);
      const truth = capacity[s.dataplane] as number - (1e6 * Math.log(100)) / 5000;
      assert.ok(s.knownWithin.low !== null && s.knownWithin.high !== null && s.knownWithin.low <= truth && truth < s.knownWithin.high, `${s.dataplane}: [${s.knownWithin.low}, ${s.knownWithin.high}) holds ${truth}`);
      assert.equal(s.loadPoint.connections, 8, 'the highest of load.connections');
      assert.ok(s.probes.every((p) => p.stepId.includes('-search-') && p.cpuUsPerRequest !== null && p.cpuUsPerRequest > 0), 'every probe has its id and CPU per request');
    }
    assert.ok((searches[0]?.maxQps ?? 0) >= (searches[1]?.maxQps ?? Infinity), 'baseline carries more');
    assert.ok(searches.every((s) => s.confirmed), 'both ends of each bracket confirmed');
    // Each probe's window holds 10,000 requests (the default minRequests) or its 500 ms, whichever is longer.
    assert.deepEqual(windows.find(([q]) => q === 500), [500, 20_000_000]);
    for (const [q, us] of windows) assert.equal(us, Math.max(500_000, Math.ceil(1e10 / q / 1000) * 1000), `${q} qps`);
    // The point, then one deployment per search, and a fresh one after every failing probe that another follows.
    const redeploys = (s: (typeof searches)[number]): string[] => s.probes.slice(0, -1).filter((p) => p.verdict === 'fail').map(() => s.dataplane);
    assert.deepEqual(platform.deployed, ['baseline', 'sidecar', ...searches.flatMap((s) => [s.dataplane, ...redeploys(s)])]);
    assert.ok(searches.every((s) => redeploys(s).length > 0), 'each search redeployed after a failing probe');
    assert.equal(outcome.summary.groups.length, 2, 'probes are not headline groups');
    assert.equal(loaded.steps.length, 2 + searches.reduce((a, s) => a + s.probes.length, 0));
    assert.equal(loaded.run.stepsPlanned, loaded.steps.length, 'the unused budget is not left planned');
    assert.ok(loaded.steps.filter((s) => s.search !== undefined).every((s) => s.id.endsWith(`-p${s.search?.probe}`)));
    const summaryText = formatSummaryText(outcome.summary);
    assert.match(summaryText, /max rate meeting P99 ≤ 5\.00 ms, errors ≤ 0\.10 % \(open loop, c8, 500–200000 qps, at most 12 probes\)/);
    assert.match(summaryText, /\n {2}baseline cross-node: \d+ qps where the fitted P99 meets the objective \(known within \[\d+, \d+\) qps; converged in \d+ probes, both ends confirmed\)/);
    for (const x of searches) {
      const { low, high } = x.knownWithin;
      assert.ok(low !== null && high !== null && x.estimateQps !== undefined && x.estimateQps !== null && x.estimateQps >= low && x.estimateQps <= high, `${x.dataplane}: the answer ${x.estimateQps} lies in [${low}, ${high})`);
    }
    assert.match(summaryText, /\n {2}sidecar cross-node: \d+ qps/);

    const report = await writeReport(path.join(tmp, 's'), { outputDir: path.join(tmp, 'report') });
    const md = fs.readFileSync(report.markdown, 'utf8');
    assert.match(md, /## Maximum rate under the objective \(P99 ≤ 5\.00 ms, errors ≤ 0\.10 %\)/);
    assert.match(md, /\| baseline \| cross-node \| \d+ \| \[\d+, \d+\) \| \d+ \| yes \| converged/);
    assert.match(md, /### Probes: sidecar, cross-node/);
    assert.match(md, /\| 1 \| 500 \| 500 \| .* \| pass: P99 .* ≤ 5\.00 ms, errors 0\.00 % ≤ 0\.10 % \|/);
    assert.ok(report.chartFiles.some((f) => f.endsWith('rate-search.svg')));
    const svg = fs.readFileSync(path.join(tmp, 'report', 'charts', 'rate-search.svg'), 'utf8');
    assert.ok(svg.includes('<svg') && svg.includes('offered rate'), 'the search chart rendered');
    const spec = JSON.parse(fs.readFileSync(path.join(tmp, 'report', 'charts', 'rate-search.vl.json'), 'utf8')) as { vconcat: Array<{ layer?: Array<{ mark: { type: string }; data: { values: Array<Record<string, unknown>> } }> }> };
    const layers = spec.vconcat[0]?.layer ?? [];
    assert.deepEqual(layers.map((l) => l.mark.type), ['line', 'point', 'rule', 'rule'], 'latency lines, probe points, the objective, the answers');
    assert.deepEqual(layers[2]?.data.values.map((v) => v.limitUs), [5000]);
    assert.deepEqual(layers[3]?.data.values.map((v) => v.maxQps), searches.map((s) => s.estimateQps ?? s.maxQps), 'the answer: the fit\'s crossing');
    const html = fs.readFileSync(report.html, 'utf8');
    assert.ok(html.includes('Maximum rate under the objective'));
    if (chromiumMissing() === null) {
      const check = await checkReportInChromium(report.html, 'report-search');
      assert.deepEqual(check.consoleErrors, []);
      const chart = check.charts.find((c) => c.id === 'rate-search');
      assert.equal(chart?.rendered, 'true', 'the search chart drew in Chromium');
      assert.ok((chart?.marks ?? 0) > 0);
    }
  });
});
