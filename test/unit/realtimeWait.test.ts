import assert from 'node:assert/strict';
import { EarlyWakeTimers, type WakeSource } from '../../workloads/earlyWakeTimers';
import { RealtimeWait, defaultRealtimeWait, realtimeWaitBlocker, refusingRealtimeVerbs, type RealtimeVerbs } from '../../workloads/realtimeWait';

/** Fake scheduling verbs: records every call, holds a policy the test can demote, refuses when told to. */
function fakeVerbs(refuse?: Error) {
  const calls: number[] = [];
  let policy = 'other';
  const verbs: RealtimeVerbs = {
    setRealtimeWait: (priority) => {
      if (refuse !== undefined && priority > 0) throw refuse;
      calls.push(priority);
      policy = priority > 0 ? 'fifo' : 'other';
    },
    schedPolicy: () => policy,
  };
  return { verbs, calls, demote: (): void => { policy = 'other'; } };
}

const options = { ...defaultRealtimeWait, minSleepUs: 10_000 };

describe('RealtimeWait: SCHED_FIFO only around long sleeps, bounded and never fatal', () => {
  it('promotes before a long sleep with the RLIMIT_RTTIME limits, and makes no call while the state holds', () => {
    const f = fakeVerbs();
    const limits: number[][] = [];
    const w = new RealtimeWait({ ...f.verbs, setRealtimeWait: (p, s, h) => { limits.push([p, s, h]); f.verbs.setRealtimeWait(p, s, h); } }, options);
    assert.equal(w.state, 'unused');
    w.beforeSleep(9_999);
    assert.equal(w.state, 'unused', 'a short sleep never promotes');
    w.beforeSleep(50_000);
    w.beforeSleep(49_000);
    w.beforeSleep(10_000);
    assert.equal(w.state, 'on');
    assert.deepEqual(limits, [[options.priority, options.rtTimeSoftUs, options.rtTimeHardUs]], 'one promotion for three long sleeps');
    w.beforeSleep(1_000);
    assert.equal(w.state, 'off', 'a short sleep (a higher rate) leaves it');
    w.leave();
    assert.deepEqual(f.calls, [1, 0]);
  });

  it('a refusal (EPERM) turns it off for good and says why; the loop carries on', () => {
    const f = fakeVerbs(Object.assign(new Error('sched_setscheduler(SCHED_FIFO) failed'), { code: 'EPERM' }));
    const w = new RealtimeWait(f.verbs, options);
    w.beforeSleep(50_000);
    assert.equal(w.state, 'refused');
    assert.match(w.reason, /SCHED_FIFO/);
    w.beforeSleep(50_000);
    w.leave();
    assert.equal(w.state, 'refused');
    assert.deepEqual(f.calls, [], 'never tried again, never demoted (was never promoted)');
  });

  it('notices a demotion by the RLIMIT_RTTIME guard and never promotes again', () => {
    const f = fakeVerbs();
    const w = new RealtimeWait(f.verbs, options);
    w.beforeSleep(50_000);
    f.demote(); // the native SIGXCPU handler, behind its back
    w.beforeSleep(50_000);
    assert.equal(w.state, 'demoted');
    assert.match(w.reason, /RLIMIT_RTTIME/);
    w.beforeSleep(50_000);
    w.leave();
    assert.deepEqual(f.calls, [1], 'no second promotion, no needless demotion');
  });

  it('EarlyWakeTimers: promoted for a long sleep, kept through the spin after an early wake-up, left when idle and on close', async () => {
    const f = fakeVerbs();
    const w = new RealtimeWait(f.verbs, options);
    const clock = { now: 0, nowUs(): number { return this.now; } };
    let wake: () => void = () => undefined;
    const arms: number[] = [];
    const timers = new EarlyWakeTimers(clock, (onWake) => {
      wake = onWake;
      const source: WakeSource = { kind: 'timerfd', arm: (at) => arms.push(at), disarm: () => undefined, close: () => undefined };
      return source;
    }, { marginUs: (sleepUs) => (sleepUs >= 1000 ? 300 : 0), observe: () => undefined }, w);
    const ran: number[] = [];
    timers.setTimeout(() => ran.push(clock.now), 50); // due at 50,000 µs: a 49,700 µs sleep
    assert.deepEqual(arms, [49_700]);
    assert.equal(w.state, 'on');
    clock.now = 49_750;
    wake();
    assert.equal(w.state, 'on', 'still realtime while spinning to the deadline');
    clock.now = 50_001;
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(ran, [50_001]);
    assert.equal(w.state, 'off', 'nothing pending: back to SCHED_OTHER');
    timers.setTimeout(() => ran.push(clock.now), 2); // a 2 ms sleep: below minSleepUs
    assert.equal(w.state, 'off');
    timers.setTimeout(() => ran.push(clock.now), 1); // earlier: re-armed, still short
    timers.close();
    assert.deepEqual(f.calls, [1, 0]);
  });
});

describe('realtimeWaitBlocker: realtime only in a node started with --no-memory-reducer', () => {
  it('allows a node with the flag, and refuses one without it with the reason, through RealtimeWait', () => {
    assert.equal(realtimeWaitBlocker(['--perf-basic-prof-only-functions', '--no-memory-reducer']), undefined);
    const why = realtimeWaitBlocker(['--perf-basic-prof-only-functions']);
    assert.match(why ?? '', /--no-memory-reducer/);
    const wait = new RealtimeWait(refusingRealtimeVerbs(why as string));
    wait.beforeSleep(50_000);
    assert.equal(wait.state, 'refused');
    assert.match(wait.reason, /memory-reducer GC/);
    wait.leave();
    assert.equal(wait.state, 'refused');
  });
});
