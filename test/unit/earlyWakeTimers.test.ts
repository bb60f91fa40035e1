import assert from 'node:assert/strict';
import { EarlyWakeTimers, type WakeMarginPolicy, type WakeSource } from '../../workloads/earlyWakeTimers';

/** A clock the test moves, and a wake source that records its arms and fires when told. */
function rig(marginUs: (sleepUs: number) => number) {
  const clock = { now: 0, nowUs(): number { return this.now; } };
  const arms: number[] = [];
  const observed: number[] = [];
  let wake: () => void = () => undefined;
  const policy: WakeMarginPolicy = { marginUs, observe: (l) => observed.push(l) };
  const timers = new EarlyWakeTimers(clock, (onWake) => {
    wake = onWake;
    const source: WakeSource = { kind: 'timerfd', arm: (at) => arms.push(at), disarm: () => undefined, close: () => undefined };
    return source;
  }, policy);
  /** Fires the source at `atUs`, as the kernel would (late or not). */
  const fire = (atUs: number): void => { clock.now = atUs; wake(); };
  return { clock, arms, observed, timers, fire };
}
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('EarlyWakeTimers: one wake-up per deadline, a learned margin early', () => {
  it('with no margin it arms for the deadline itself and never spins; it reports each wake-up\'s lateness', async () => {
    const r = rig(() => 0);
    const ran: number[] = [];
    r.timers.setTimeout(() => ran.push(r.clock.now), 0.1); // due at 100 µs
    r.timers.setTimeout(() => ran.push(r.clock.now), 0.2);
    assert.deepEqual(r.arms, [100]);
    r.fire(107);
    assert.deepEqual(ran, [107]);
    assert.deepEqual(r.observed, [7], 'lateness from the armed time');
    assert.deepEqual(r.arms, [100, 200], 're-armed for the next deadline, not spinning');
    r.fire(200);
    assert.deepEqual(ran, [107, 200]);
    assert.deepEqual(r.observed, [7, 0]);
    await turn();
    r.timers.close();
  });

  it('wakes the margin early, then spins to the deadline (no second sleep) and runs nothing before it', async () => {
    const r = rig((sleepUs) => (sleepUs >= 1000 ? 300 : 0));
    const ran: number[] = [];
    r.timers.setTimeout(() => ran.push(r.clock.now), 50); // due at 50,000 µs
    assert.deepEqual(r.arms, [49_700]);
    r.fire(49_750); // 50 µs late, still 250 µs early
    assert.deepEqual(r.observed, [50]);
    assert.deepEqual(ran, []);
    r.clock.now = 49_900;
    await turn();
    assert.deepEqual(ran, [], 'still early: spinning');
    assert.deepEqual(r.arms, [49_700], 'not armed again for what is left, though the margin for 100 µs is 0');
    r.clock.now = 50_001;
    await turn();
    assert.deepEqual(ran, [50_001]);
    r.timers.close();
  });

  it('releases every deadline that came due on one wake-up, in order', () => {
    const r = rig(() => 0);
    const ran: string[] = [];
    r.timers.setTimeout(() => ran.push('b'), 0.3);
    r.timers.setTimeout(() => ran.push('a'), 0.1);
    r.timers.setTimeout(() => ran.push('c'), 0.3);
    const cleared = r.timers.setTimeout(() => ran.push('x'), 0.2);
    r.timers.clearTimeout(cleared);
    r.fire(400);
    assert.deepEqual(ran, ['a', 'b', 'c']);
    assert.deepEqual(r.observed, [300], 'armed for 100 µs, woken at 400');
    r.timers.close();
  });

  for (const nextMs of [0.01, 0]) {
    it(`returns to the event loop when each release sets the next deadline ${nextMs * 1000} µs on`, () => {
      // A clock that moves 1 µs per read, as a real one does while the loop works; 10 µs on is 100,000 QPS,
      // 0 is a backlog (each next deadline already due).
      const clock = { t: 0, nowUs(): number { this.t += 1; return this.t; } };
      let wake: () => void = () => undefined;
      const timers = new EarlyWakeTimers(clock, (onWake) => {
        wake = onWake;
        return { kind: 'timerfd', arm: () => undefined, disarm: () => undefined, close: () => undefined };
      }, { marginUs: () => 0, observe: () => undefined });
      let released = 0;
      // Capped so that chasing the chain (the defect) ends and fails the assertion instead of hanging.
      const chain = (): void => { released += 1; if (released < 1000) timers.setTimeout(chain, nextMs); };
      timers.setTimeout(chain, 0);
      clock.t += 5;
      wake();
      timers.close();
      assert.ok(released >= 1 && released <= 3, `one wake-up released ${released} of a self-renewing chain`);
    });
  }
});
