import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { loadRun } from '../../harness/results/resultsStore';
import type { SummaryRecord } from '../../harness/results/summaryTypes';
import { cliPath, runCli } from '../helpers/cli';
import { findLeftovers, isRoot, type Leftovers } from './netnsLeftovers';

/*
 * `meshbench run` as a user runs it, as root on the netns platform: bad profiles create nothing; a short
 * profile of every data plane writes a complete results folder; SIGINT mid-run leaves a readable partial
 * result; and nothing of meshbench remains after any of them.
 */

const repo = path.join(__dirname, '..', '..', '..');
const fixtures = path.join(repo, 'test', 'fixtures', 'profiles');

/**
 * Leftovers once the kernel has finished releasing: a BPF program whose last fd closed with the process is
 * freed asynchronously (deferred work), so it may still be listed for a moment after exit. Anything still
 * there after 3 s is a leak.
 */
async function settledLeftovers(): Promise<Leftovers> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const l = findLeftovers();
    if (Object.values(l).every((v) => !Array.isArray(v) || v.length === 0) || Date.now() > deadline) return l;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function assertClean(l: Leftovers): void {
  const left = Object.entries(l).filter(([, v]) => Array.isArray(v) && v.length > 0);
  assert.deepEqual(Object.fromEntries(left), {}, 'nothing of meshbench remains');
  assert.ok('namespaces' in l && 'cgroupDirs' in l && 'rootIptables' in l && 'bpfLinks' in l);
}

describe('meshbench run (root)', function () {
  this.timeout(90_000);
  let tmp: string;

  before(function () {
    if (!isRoot()) this.skip();
  });
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-runcmd-')); });
  afterEach(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!isRoot()) return;
    // Whatever a failed test left, cleanup removes; then nothing may remain.
    await cleanupEverything();
    assertClean(await settledLeftovers());
  });

  it('rejects every malformed profile with one line and exit 2, creating nothing on the machine', async () => {
    assertClean(await settledLeftovers());
    const bad = path.join(fixtures, 'bad');
    const files = fs.readdirSync(bad).sort();
    assert.ok(files.length >= 20, 'the corpus is complete');
    for (const f of files) {
      const file = path.join(bad, f);
      const out = path.join(tmp, f);
      const r = await runCli(['run', file, '--output', out]);
      assert.equal(r.code, 2, `${f}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${f}: one line, got ${r.stderr}`);
      assert.ok(lines[0]?.startsWith(`meshbench: ${file}: `), `${f}: names the file: ${lines[0] ?? ''}`);
      assert.equal(fs.existsSync(out), false, `${f}: no results folder`);
      assertClean(findLeftovers()); // nothing was ever created, so nothing to wait for
    }
  });

  it('runs a short profile of every data plane into a complete results folder', async () => {
    const out = path.join(tmp, 'out');
    const t0 = Date.now();
    const r = await runCli(['run', path.join(fixtures, 'run', 'e2e.yaml'), '--output', out], 80_000);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(seconds < 60, `took ${seconds} s`);
    const loaded = loadRun(out);
    assert.equal(loaded.run.status, 'complete');
    const ran = new Set(loaded.steps.map((s) => s.dataplane));
    const skipped = new Set(loaded.run.dataplanesSkipped.map((s) => s.dataplane));
    for (const dp of ['baseline', 'sidecar', 'ambient', 'waypoint'] as const) assert.ok(ran.has(dp), `${dp} ran`);
    for (const dp of ['kernel', 'dual'] as const) {
      assert.ok(ran.has(dp) !== skipped.has(dp), `${dp} either ran or is named as skipped`);
      if (skipped.has(dp)) assert.match(r.stderr, new RegExp(`skipped ${dp}: .+`));
    }
    assert.equal(loaded.steps.length, 2 * ran.size, 'a clean and an instrumented repetition of each (probes.mode separate)');
    for (const s of loaded.steps) {
      assert.ok(s.load.requestsCompleted > 0 && s.load.requestsFailed === 0, `${s.id}: ${s.load.requestsCompleted} ok, ${s.load.requestsFailed} failed`);
      const names = s.components.map((c) => c.name);
      assert.ok(names.includes('client') && names.includes('server'), `${s.id}: ${names.join(',')}`);
      if (s.dataplane === 'sidecar') assert.ok(names.includes('client-proxy') && names.includes('server-proxy'), names.join(','));
      for (const c of s.components) {
        if (c.role === 'dataplane' && s.measurement === 'clean') continue; // the eBPF row comes from the instrumented repetition
        const res = s.resources[c.name];
        assert.ok(res !== undefined, `${s.id}: resources for ${c.name}`);
        if (c.role === 'dataplane') continue;
        assert.ok(res.cpuTotalUs > 0 && res.cpuUserUs + res.cpuSystemUs === res.cpuTotalUs, `${s.id} ${c.name}: cpu ${JSON.stringify(res)}`);
        assert.ok((res.memoryRssBytesPeak ?? 0) > 0 && (res.memoryRssBytesAvg ?? 0) > 0, `${s.id} ${c.name}: memory`);
        assert.equal((s.probes.foldedStacks[c.name] ?? '') !== '', s.measurement === 'instrumented', `${s.id} ${c.name}: stacks sampled in the instrumented repetition only`);
      }
      assert.equal(s.connectionsOnPath, { baseline: 1, sidecar: 3, ambient: 3, waypoint: 4, kernel: 1, dual: 2 }[s.dataplane], s.id);
    }
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as SummaryRecord;
    const sidecar = summary.groups.find((g) => g.dataplane === 'sidecar');
    assert.ok(sidecar?.breakdown !== null && sidecar?.breakdown !== undefined, 'sidecar has a breakdown');
    const b = sidecar.breakdown;
    const sum = Object.entries(b.byCategoryUs).reduce((x, [cat, y]) => (cat === 'instrumentation' ? x : x + y), 0);
    assert.ok(Math.abs(sum - b.extraCpuUsPerRequest) < 1e-6, 'categories but instrumentation add up to the mesh\'s extra CPU');
    assert.ok(Math.abs(sum + b.byCategoryUs.instrumentation - (b.measuredExtraCpuUsPerRequest ?? Number.NaN)) < 1e-6, 'with instrumentation: the measured extra');
    const u = sidecar.breakdownUncertainty;
    assert.ok(u !== null && u !== undefined && u.extraCpuIntervalUs.low <= u.extraCpuUsPerRequest && u.extraCpuUsPerRequest <= u.extraCpuIntervalUs.high, 'the extra CPU lies in its interval');
    assert.match(r.stderr, /sidecar: (unexplained \d+% of|extra CPU .* explained share n\/a \(within noise\))/);
    // the perturbation table: every data plane that ran, printed and stored
    const table = r.stderr.slice(r.stderr.indexOf('perturbation:'));
    for (const dp of ran) {
      assert.match(table, new RegExp(`\\n${dp} +`), `${dp} in the perturbation table`);
      assert.ok(summary.groups.find((g) => g.dataplane === dp)?.perturbation, `${dp}: perturbation in summary.json`);
    }
    assertClean(await settledLeftovers()); // the run removed everything itself, before afterEach's cleanup
    assert.match(r.stderr, new RegExp(`results: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('one interrupt delivered twice (coreutils timeout: the command, then its group) before any step finished: cleanup, exit 130, one line saying nothing was measured', async () => {
    const out = path.join(tmp, 'out');
    const child = spawn(process.execPath, [cliPath, 'run', path.join(fixtures, 'run', 'interrupt.yaml'), '--output', out], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Into the first step's window (200 ms warm-up of a 3 s step): SIGINT to the process, then to its group 20 ms
      // later, as `timeout -s INT` does; well inside forcedAfterMs, so it is one interrupt, not a forced exit.
      if (!sent && /\[1\/6\]/.test(stderr)) {
        sent = true;
        setTimeout(() => {
          process.kill(child.pid as number, 'SIGINT');
          setTimeout(() => process.kill(-(child.pid as number), 'SIGINT'), 20);
        }, 1000);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /\nnothing was measured: the run was interrupted before its first step finished\n/);
    assert.doesNotMatch(stderr, /data plane +placement|resources per component/, 'no empty tables');
    assert.match(stderr, /meshbench run: partial \(0\/6 steps/);
    assert.doesNotMatch(stderr, /meshbench report/, 'no report command: meshbench report refuses a folder with no finished step');
    assert.equal(loadRun(out).steps.length, 0);
    assertClean(await settledLeftovers());
  });

  it('Ctrl-C (SIGINT to the process group) during the first deployment is the interruption, not a deployment failure: exit 130, nothing measured', async () => {
    const out = path.join(tmp, 'out');
    const child = spawn(process.execPath, [cliPath, 'run', path.join(fixtures, 'run', 'interrupt.yaml'), '--output', out], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The cluster's first namespace appears as the deployment begins: the echo server is killed with the group.
    let sent = false;
    for (let i = 0; i < 300 && !sent && child.exitCode === null; i += 1) {
      if (findLeftovers().namespaces.length > 0 && !/\[1\/6\]/.test(stderr)) {
        process.kill(-(child.pid as number), 'SIGINT');
        sent = true;
      } else await new Promise((r) => setTimeout(r, 20));
    }
    const code = await closed;
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    assert.doesNotMatch(stderr, /exited while starting|meshbench: /, 'no error line');
    assert.match(stderr, /\nnothing was measured: the run was interrupted before its first step finished\n/);
    assert.doesNotMatch(stderr, /meshbench report/);
    assert.equal(loadRun(out).run.status, 'partial');
    assertClean(await settledLeftovers());
  });

  it('Ctrl-C (SIGINT to the process group) in the middle of a run keeps the finished steps, marks the run partial and leaves nothing behind', async () => {
    const out = path.join(tmp, 'out');
    // Its own process group, signalled as a whole: what Ctrl-C in a terminal does (the proxies, the echo
    // server, the load client and perf get SIGINT too).
    const child = spawn(process.execPath, [cliPath, 'run', path.join(fixtures, 'run', 'interrupt.yaml'), '--output', out], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Into the second step's measurement: deploy, warm-up, then a second of its 3 s.
      if (!sent && /\[2\/6\]/.test(stderr)) {
        sent = true;
        setTimeout(() => process.kill(-(child.pid as number), 'SIGINT'), 2000);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    const loaded = loadRun(out);
    assert.equal(loaded.run.status, 'partial');
    assert.equal(loaded.run.statusReason, 'interrupted');
    assert.equal(loaded.steps.length, 1, 'the finished step is kept, the interrupted one is not recorded');
    assert.equal(loaded.steps[0]?.dataplane, 'baseline');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as SummaryRecord;
    assert.equal(summary.status, 'partial');
    // Checked before afterEach's cleanup, which would hide leftovers.
    assertClean(await settledLeftovers());
  });
});
