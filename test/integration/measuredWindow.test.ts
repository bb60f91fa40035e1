import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult } from '../../workloads/loadResult';
import { LatencyHistogram, reportedPercentiles } from '../../workloads/latencyHistogram';
import { parseProfile } from '../../harness/profile/profileLoad';
import type { DataPlaneName } from '../../harness/profile/profileSchema';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import type { StepRecord } from '../../harness/results/resultTypes';
import { loadGeneratorCpu, Runner, withoutLoadGenerator, type RunnerEvents } from '../../harness/runner/runner';
import type { DeployedDataPlane, LoadInvocation, PlatformSession, Placement, ProbeProvider, StepProbes } from '../../harness/runner/platformSession';
import { metricValue } from '../../reports/compare/gateMetrics';

/*
 * The measured window, against the runner's real code path with counters the test controls: each
 * component's cgroup files (cpu.stat, v1 memory files) are written by a simulated workload, so the CPU in
 * the window, the requests and what happens after the window are known exactly. What happens after the
 * window (a slow load-client exit, slow probe teardown and symbolisation) must move no figure.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Per component: CPU (µs per second of load) split user/system, and its memory. */
const rates: Record<string, { userPerS: number; systemPerS: number }> = {
  client: { userPerS: 400_000, systemPerS: 150_000 },
  server: { userPerS: 120_000, systemPerS: 180_000 },
};
const requestsPerWindow = 1000;
const windowMs = 1000;
/** The load client's own user time over the window (its rusage), inside the client cgroup's user time. */
const loadGeneratorUserUs = 300_000;
const rssBytes = 40 * 2 ** 20;
const briefPeakBytes = 90 * 2 ** 20;

function writeCpu(dir: string, userUs: number, systemUs: number): void {
  fs.writeFileSync(path.join(dir, 'cpu.stat'), `usage_usec ${Math.round(userUs + systemUs)}\nuser_usec ${Math.round(userUs)}\nsystem_usec ${Math.round(systemUs)}\n`);
}

function loadResult(): LoadResult {
  const h = new LatencyHistogram();
  for (let i = 0; i < requestsPerWindow; i += 1) h.record(500 + (i % 50));
  const rec = { ...h.summary(reportedPercentiles), histogram: h.encode() };
  return {
    schemaVersion: 1, tool: 'meshbench', version: 'test', startTime: new Date().toISOString(), labels: '',
    options: { url: 'http://127.0.0.1/', protocol: 'http', mode: 'fixed-rate', qps: 1000, connections: 2, durationUs: windowMs * 1000, requests: null, warmupUs: 100_000, payloadBytes: 0, keepAlive: true, timeoutUs: 5e6, headers: [] },
    actualDurationUs: windowMs * 1000, requestsCompleted: requestsPerWindow, requestsFailed: 0, actualQps: requestsPerWindow, latency: rec, serviceTime: rec, sendLag: rec,
    statusCounts: { 200: requestsPerWindow }, errorsByKind: {}, socketsOpened: 2, bytesSent: 0, bytesReceived: 0, requestsUnsent: 0,
  } as unknown as LoadResult;
}

/**
 * A platform whose components are folders with cgroup files and whose load is simulated: CPU grows
 * through warm-up and window, stops at the window's end; the client then takes `exitDelayMs` to exit.
 */
class CounterPlatform implements PlatformSession {
  readonly name = 'counters-test';
  constructor(private readonly root: string, private readonly exitDelayMs: number) {}

  async deploy(dataplane: DataPlaneName, placement: Placement): Promise<DeployedDataPlane> {
    const dirs: Record<string, { v2: string; v1: string }> = {};
    for (const name of Object.keys(rates)) {
      const v2 = path.join(this.root, dataplane, name);
      const v1 = path.join(this.root, dataplane, `${name}-memory`);
      fs.mkdirSync(v2, { recursive: true });
      fs.mkdirSync(v1, { recursive: true });
      writeCpu(v2, 5_000, 5_000);
      fs.writeFileSync(path.join(v1, 'memory.stat'), `total_rss ${rssBytes}\n`);
      fs.writeFileSync(path.join(v1, 'memory.max_usage_in_bytes'), `${2 * briefPeakBytes}\n`); // an old peak, before the window
      dirs[name] = { v2, v1 };
    }
    const advance = (fraction: number, base: Record<string, { u: number; s: number }>): void => {
      for (const [name, r] of Object.entries(rates)) {
        const d = dirs[name] as { v2: string };
        writeCpu(d.v2, (base[name]?.u ?? 0) + r.userPerS * fraction * (windowMs / 1000), (base[name]?.s ?? 0) + r.systemPerS * fraction * (windowMs / 1000));
      }
    };
    const runLoad = async (inv: LoadInvocation): Promise<LoadResult> => {
      // warm-up: CPU that is not the window's
      advance(0.1, { client: { u: 5_000, s: 5_000 }, server: { u: 5_000, s: 5_000 } });
      await sleep(20);
      const base = { client: { u: 5_000 + rates.client!.userPerS * 0.1, s: 5_000 + rates.client!.systemPerS * 0.1 }, server: { u: 5_000 + rates.server!.userPerS * 0.1, s: 5_000 + rates.server!.systemPerS * 0.1 } };
      advance(0, base);
      // warm-up did the same work as the window: user:system 7.5:1 over the process's life so far
      inv.onMeasuring({ cpuUserUs: 75_000, cpuSystemUs: 10_000 });
      const started = Date.now();
      let peakWritten = false;
      for (;;) {
        const f = Math.min(1, (Date.now() - started) / windowMs);
        advance(f, base);
        if (!peakWritten && f > 0.5) {
          // a brief peak between two 200 ms samples, as the kernel records it (the runner reset the file to "0")
          for (const d of Object.values(dirs)) {
            const cur = Number(fs.readFileSync(path.join(d.v1, 'memory.max_usage_in_bytes'), 'utf8'));
            fs.writeFileSync(path.join(d.v1, 'memory.max_usage_in_bytes'), `${Math.max(cur, briefPeakBytes)}\n`);
          }
          peakWritten = true;
        }
        if (f >= 1) break;
        await sleep(5);
      }
      inv.onWindowEnd?.({ cpuUserUs: 75_000 + loadGeneratorUserUs, cpuSystemUs: 10_000 + 40_000 });
      // A slow exit after the window (the client writes its histograms, closes, exits): no CPU of the window.
      await sleep(this.exitDelayMs);
      return loadResult();
    };
    return {
      dataplane, placement, targetUrl: 'http://127.0.0.1:1/',
      components: Object.entries(dirs).map(([name, d]) => ({ name, role: name === 'client' ? 'client' as const : 'server' as const, node: null, cgroupId: null, v2Path: d.v2, memoryV1Path: d.v1 })),
      runLoad,
      connectionsOnPath: async () => 1,
    };
  }
  async remove(): Promise<void> { /* folders go with the test's tmp */ }
  async versions(): Promise<Record<string, string>> { return {}; }
  async close(): Promise<void> { /* nothing */ }
}

/** Probes that take `stopDelayMs` to detach and symbolise (the teardown the landed runner measured). */
class SlowProbes implements ProbeProvider {
  constructor(private readonly stopDelayMs: number) {}
  unavailableReason(): string | null { return null; }
  open(): StepProbes {
    return {
      start: async () => undefined,
      stop: async () => {
        await sleep(this.stopDelayMs);
        return { figures: {}, detail: {}, foldedStacks: {} };
      },
    };
  }
  async close(): Promise<void> { /* nothing */ }
}

const quiet: RunnerEvents = { stepStarted: () => undefined, stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined };

describe('measured window', function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-window-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // pr-gate's trim: the landed runner spread the requests over the trimmed window including the tail.
  const profileText = 'name: t\ndataplanes: [baseline]\nduration: 1s\nwarmup: 100ms\ncooldownTrim: 200ms\nload: {qps: [1000]}\nprobes: {sampleHz: 99}\n';

  async function run(label: string, exitDelayMs: number, probeStopDelayMs: number): Promise<StepRecord[]> {
    const profile = parseProfile(profileText, 't.yaml');
    const store = ResultsStore.create(path.join(tmp, label));
    const platform = new CounterPlatform(path.join(tmp, `${label}-cg`), exitDelayMs);
    const outcome = await new Runner({ profile, file: 't.yaml', hash: 'h', text: profileText }, platform, new SlowProbes(probeStopDelayMs), store, quiet, label).run(new AbortController().signal);
    assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    return loadRun(store.dir).steps;
  }

  it('a slow teardown after the window (client exit, probe teardown) leaves CPU per request unchanged within 1 %', async () => {
    const reference = await run('ref', 0, 0);
    const slow = await run('slow', 300, 600);
    assert.ok(slow.length >= 1);
    for (const s of slow) {
      const ref = reference.find((r) => r.id === s.id);
      assert.ok(ref !== undefined, s.id);
      for (const name of ['client', 'server']) {
        const a = ref.resources[name]?.cpuUsPerRequest ?? NaN;
        const b = s.resources[name]?.cpuUsPerRequest ?? NaN;
        assert.ok(Math.abs(b / a - 1) <= 0.01, `${s.id} ${name}: ${a.toFixed(2)} µs/request without the slow teardown, ${b.toFixed(2)} with it`);
      }
      const refTotal = metricValue(ref, 'cpu.perRequest') ?? NaN;
      const slowTotal = metricValue(s, 'cpu.perRequest') ?? NaN;
      assert.ok(Math.abs(slowTotal / refTotal - 1) <= 0.01, `cpu.perRequest ${refTotal} → ${slowTotal}`);
    }
  });

  it('CPU is the window exactly: the server\'s figure is its window CPU over the window\'s requests', async () => {
    const steps = await run('exact', 200, 200);
    for (const s of steps) {
      const server = s.resources.server;
      const expected = ((rates.server!.userPerS + rates.server!.systemPerS) * (windowMs / 1000)) / requestsPerWindow;
      assert.ok(server !== undefined && Math.abs((server.cpuUsPerRequest ?? 0) / expected - 1) <= 0.01, `${s.id}: ${server?.cpuUsPerRequest} vs ${expected}`);
      assert.match(s.window?.source ?? '', /load-client events/);
      assert.ok((s.window?.afterWindowUs ?? 0) >= 150_000, `the teardown is measured as outside the window: ${s.window?.afterWindowUs}`);
    }
  });

  it('the load generator\'s user time is its own row, out of the client\'s CPU and cpu.perRequest; its system time stays', async () => {
    const steps = await run('loadgen', 0, 0);
    for (const s of steps) {
      assert.ok(Math.abs((s.loadGenerator?.cpuUserUs ?? 0) - loadGeneratorUserUs) < 1e-6, `${s.loadGenerator?.cpuUserUs}`);
      assert.ok(Math.abs((s.loadGenerator?.cpuSystemUs ?? 0) - 40_000) < 1e-6);
      assert.ok(Math.abs((s.loadGenerator?.cpuUserUsPerRequest ?? 0) - loadGeneratorUserUs / requestsPerWindow) < 1e-9);
      const client = s.resources.client;
      const clientUserUs = rates.client!.userPerS * (windowMs / 1000) - loadGeneratorUserUs;
      assert.ok(client !== undefined && Math.abs(client.cpuUserUs - clientUserUs) <= 0.01 * clientUserUs, `client user ${client?.cpuUserUs} vs ${clientUserUs}`);
      assert.ok(Math.abs((client.cpuSystemUs) - rates.client!.systemPerS) <= 0.01 * rates.client!.systemPerS, 'system time stays in the client row');
      assert.ok(Math.abs((metricValue(s, 'cpu.loadGenerator') ?? 0) - loadGeneratorUserUs / requestsPerWindow) < 1e-9);
      const meshCpu = (rates.client!.userPerS + rates.client!.systemPerS + rates.server!.userPerS + rates.server!.systemPerS - loadGeneratorUserUs) / requestsPerWindow;
      assert.ok(Math.abs((metricValue(s, 'cpu.perRequest') ?? 0) / meshCpu - 1) <= 0.01, `cpu.perRequest ${metricValue(s, 'cpu.perRequest')} vs ${meshCpu}`);
    }
  });

  it('a window whose kernel split put all the client cgroup\'s time in system leaves the client row the total minus the load generator\'s user time', () => {
    const row = { cpuUserUs: 0, cpuSystemUs: 500_000, cpuTotalUs: 500_000, cpuUsPerRequest: 500, cpuCores: 0.5, memoryRssBytesAvg: null, memoryRssBytesPeak: null, samples: 5 };
    const out = withoutLoadGenerator(row, 300_000, 1000);
    assert.equal(out.cpuTotalUs, 200_000);
    assert.equal(out.cpuUserUs + out.cpuSystemUs, out.cpuTotalUs);
    assert.equal(out.cpuUsPerRequest, 200);
    // and the window's split of the process's own rusage is not trusted: its lifetime ratio is
    const lg = loadGeneratorCpu({ cpuUserUs: 750_000, cpuSystemUs: 250_000 }, { cpuUserUs: 1_000_000, cpuSystemUs: 400_000 }, 100);
    assert.ok(lg !== null && Math.abs(lg.cpuUserUs - 400_000 * (1_000_000 / 1_400_000)) < 1e-6 && Math.abs(lg.cpuUserUs + lg.cpuSystemUs - 400_000) < 1e-6);
  });

  it('peak memory is the kernel\'s peak over the window (reset at its start), not the largest 200 ms sample', async () => {
    const steps = await run('peak', 0, 0);
    for (const s of steps) {
      for (const name of ['client', 'server']) {
        const r = s.resources[name];
        assert.equal(r?.memoryRssBytesPeak, rssBytes, 'the samples never saw the brief peak');
        assert.equal(r?.memoryPeakBytes, briefPeakBytes, `${s.id} ${name}: the kernel's peak since the window start, not the older one`);
        assert.match(r?.memoryPeakSource ?? '', /memory\.max_usage_in_bytes/);
      }
    }
  });
});
