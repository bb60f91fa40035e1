import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { timerfdVerbs } from '../../bpf/bpfBindings';
import { monotonicClock, nodeTimers, type TimerApi } from '../../workloads/clock';
import type { LoadTimerKind } from '../../workloads/earlyWakeTimers';
import { createLoadTimers, type LoadTimers } from '../../workloads/loadTimers';

const clock = monotonicClock;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

/**
 * Sets `count` timers one after another, each `sleepMs` after the previous fired, alternating between the
 * given timer APIs (so load from other processes hits each alike); returns each API's errors (µs, + = late).
 */
function errorsUs(apis: readonly TimerApi[], count: number, sleepMs: number): Promise<number[][]> {
  return new Promise((resolve) => {
    const errors: number[][] = apis.map(() => []);
    let n = 0;
    const next = (): void => {
      if (n === count * apis.length) { resolve(errors); return; }
      const i = n % apis.length;
      n += 1;
      const deadlineUs = clock.nowUs() + sleepMs * 1000;
      (apis[i] as TimerApi).setTimeout(() => { errors[i]?.push(clock.nowUs() - deadlineUs); next(); }, sleepMs);
    };
    next();
  });
}

/** Resolves when a timer set after all the others fires: every earlier deadline has been released by then. */
function sentinel(timers: TimerApi, ms: number): Promise<void> {
  return new Promise((resolve) => { timers.setTimeout(resolve, ms); });
}

/** The process's open fds: fd number → what it points at. */
function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try { fds.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`)); } catch { /* the readdir fd itself, closed by now */ }
  }
  return fds;
}

const timerfds = (fds: Map<string, string>): string[] => [...fds].filter(([, target]) => target === 'anon_inode:[timerfd]').map(([fd]) => fd);
/** Fds open in `after` that were not open (to the same thing) in `before`. */
const opened = (before: Map<string, string>, after: Map<string, string>): string[] => [...after].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} → ${target}`);

/** Runs a script in a fresh node (so the addon cache starts empty), with extra env; resolves with its output. */
function node(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child timed out: ${stderr}`)); }, 20_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The monotonic clock, except that it can stand still (so several relative timers share one base). */
const frozen = {
  at: undefined as number | undefined,
  nowUs(): number { return this.at ?? clock.nowUs(); },
  freeze(): void { this.at = clock.nowUs(); },
  thaw(): void { this.at = undefined; },
};

const loadTimersModule = path.join(__dirname, '..', '..', 'workloads', 'loadTimers.js');

for (const kind of ['timerfd', 'worker'] as LoadTimerKind[]) {
  describe(`load timers: ${kind}`, function () {
    this.timeout(30_000);
    let t: LoadTimers;
    beforeEach(async () => { t = await createLoadTimers({ kind, clock: frozen }); });
    afterEach(() => t.timers.close());

    it('says what it is and what calibration measured', () => {
      assert.equal(t.kind, kind);
      assert.equal(t.callerSpinWindowUs, 0);
      assert.deepEqual(t.calibration.classes.map((c) => [c.sleepUs, c.lateness.samples]), [[200, 8], [1000, 8], [5000, 8], [20_000, 4]]);
      for (const c of t.calibration.classes) {
        assert.ok(c.lateness.p50Us >= 0, 'a wake source never wakes before its deadline');
        assert.ok(c.marginUs >= 5 && c.marginUs <= 1000);
      }
    });

    it('never fires early, and misses deadlines by less than a reference measured alongside', async () => {
      // timerfd: libuv timers, interleaved (they round to the loop's cached millisecond clock: errors up to ±1 ms).
      // worker: its own raw wake-up lateness from this test's calibration; on a loaded machine its two wake-ups
      // (thread, then loop) can be later than libuv's one, so libuv is no fair reference for it.
      const [ours = [], reference = []] = await errorsUs([t.timers, nodeTimers], 30, 1.3);
      assert.ok(Math.min(...ours) >= 0, `fired ${-Math.min(...ours)} µs early`);
      const oursMedian = median(ours.map(Math.abs));
      const refMedian = kind === 'timerfd' ? median(reference.map(Math.abs)) : Math.max(...t.calibration.classes.map((c) => c.lateness.maxUs));
      assert.ok(oursMedian < refMedian, `median error ${oursMedian.toFixed(1)} µs, reference ${refMedian.toFixed(1)} µs, calibration ${JSON.stringify(t.calibration)}`);
    });

    it('releases every callback that came due, in deadline order (ties in the order set)', async () => {
      const order: string[] = [];
      const at = [3, 1, 2, 2, 0.5];
      frozen.freeze(); // one "now" for all five, so the deadlines are exactly 3, 1, 2, 2, 0.5 ms from it
      at.forEach((ms, i) => t.timers.setTimeout(() => order.push(`${ms}#${i}`), ms));
      const done = sentinel(t.timers, 4);
      frozen.thaw();
      await done;
      assert.deepEqual(order, ['0.5#4', '1#1', '2#2', '2#3', '3#0']);
    });

    it('cancels: a cleared timer never runs, the others still do (cleared first or in the middle)', async () => {
      const fired: number[] = [];
      const handles = [1, 2, 3, 4].map((ms) => t.timers.setTimeout(() => fired.push(ms), ms));
      t.timers.clearTimeout(handles[0]);
      t.timers.clearTimeout(handles[2]);
      t.timers.clearTimeout(undefined); // what a closed timer returned: ignored
      await sentinel(t.timers, 5);
      assert.deepEqual(fired, [2, 4]);
    });

    it('runs nothing after close, also for timers set afterwards or inside the spin margin', async () => {
      let fired = 0;
      t.timers.setTimeout(() => { fired += 1; }, 5);
      t.timers.setTimeout(() => { fired += 1; }, 0.001); // already inside the margin: spinning when closed
      t.timers.close();
      assert.equal(t.timers.setTimeout(() => { fired += 1; }, 1), undefined);
      await sleep(20);
      assert.equal(fired, 0);
    });
  });
}

describe('load timers: resources and fallback', function () {
  this.timeout(30_000);

  it('holds exactly one timerfd while open and closes it (fd count back to the start)', async () => {
    // Compared as sets: earlier tests' worker threads may still be releasing their own fds meanwhile.
    const before = openFds();
    const t = await createLoadTimers({ kind: 'timerfd' });
    const during = openFds();
    assert.deepEqual(opened(before, during).filter((f) => f.endsWith('anon_inode:[timerfd]')).length, 1, 'calibration closed its own timerfd; the timers hold one');
    assert.equal(timerfds(during).length, timerfds(before).length + 1);
    assert.equal(timerfdVerbs().openTimers(), 1);
    await errorsUs([t.timers], 3, 0.5);
    t.timers.close();
    t.timers.close(); // idempotent
    const after = openFds();
    assert.deepEqual(opened(before, after), [], 'every fd opened since the start is closed again');
    assert.deepEqual(timerfds(after), timerfds(before));
    assert.equal(timerfdVerbs().openTimers(), 0);
  });

  it('prefers the timerfd, and the process exits by itself once the timers are closed', async () => {
    const script = `require(${JSON.stringify(loadTimersModule)}).createLoadTimers().then((t) => {
      t.timers.setTimeout(() => { console.log(JSON.stringify({ kind: t.kind, reason: t.reason })); t.timers.close(); }, 2);
    });`;
    const r = await node(script, {});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { kind: 'timerfd', reason: 'timerfd (native addon)' });
  });

  it('falls back to the worker when the addon is missing, says why, and still exits by itself', async () => {
    const script = `require(${JSON.stringify(loadTimersModule)}).createLoadTimers().then((t) => {
      t.timers.setTimeout(() => { console.log(JSON.stringify({ kind: t.kind, reason: t.reason })); t.timers.close(); }, 2);
    });`;
    const r = await node(script, { MESHBENCH_BPF_ADDON: '/nonexistent/meshbench_bpf.node' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { kind: string; reason: string };
    assert.equal(out.kind, 'worker');
    assert.match(out.reason, /^worker \(no timerfd: the BPF addon is not built \(\/nonexistent\/meshbench_bpf\.node is missing\)/);
  });

  it('refuses a forced timerfd without the addon with one clear line', async () => {
    const script = `require(${JSON.stringify(loadTimersModule)}).createLoadTimers({ kind: 'timerfd' }).then(
      () => console.log('resolved'), (e) => console.log(e.constructor.name + ': ' + e.message));`;
    const r = await node(script, { MESHBENCH_BPF_ADDON: '/nonexistent/meshbench_bpf.node' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^EnvironmentError: the BPF addon is not built/);
  });

  it('SCHED_FIFO wait: promotes with the RLIMIT_RTTIME guard, a runaway is demoted by it, bad input is refused', async () => {
    // In a child: the policy, the rlimit and the SIGXCPU handler must not leak into the test process.
    const bindings = path.join(__dirname, '..', '..', 'bpf', 'bpfBindings.js');
    const script = `const b = require(${JSON.stringify(bindings)}); const s = b.schedulingVerbs(); const fs = require('fs');
      const out = { before: s.schedPolicy() };
      s.setRealtimeWait(1, 50000, 5000000);
      out.promoted = s.schedPolicy();
      out.limits = /Max realtime timeout\\s+(\\d+)\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8')).slice(1);
      s.setRealtimeWait(0, 0, 0);
      out.left = s.schedPolicy();
      s.setRealtimeWait(1, 50000, 5000000);
      const t0 = process.hrtime.bigint();
      while (s.schedPolicy() === 'fifo' && process.hrtime.bigint() - t0 < 3000000000n) {}
      out.runawayMs = Number(process.hrtime.bigint() - t0) / 1e6;
      out.afterRunaway = s.schedPolicy();
      try { s.setRealtimeWait(100, 50000, 5000000); } catch (e) { out.bad = e.constructor.name + ' ' + e.code; }
      console.log(JSON.stringify(out));`;
    const r = await node(script, {});
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { before: string; promoted: string; limits: string[]; left: string; runawayMs: number; afterRunaway: string; bad: string };
    assert.equal(out.before, 'other');
    assert.equal(out.promoted, 'fifo');
    assert.deepEqual(out.limits, ['50000', '5000000'], 'RLIMIT_RTTIME soft and hard, µs');
    assert.equal(out.left, 'other');
    assert.equal(out.afterRunaway, 'other', 'the SIGXCPU handler demoted the spinning thread');
    assert.ok(out.runawayMs >= 50, `not before the soft limit: ${out.runawayMs} ms`);
    assert.equal(out.bad, 'BpfError EARG');
  });
});
