import assert from 'node:assert/strict';
import { DeadlineQueue } from '../../workloads/deadlineQueue';
import { FakeTime } from '../helpers/fakeTime';

describe('DeadlineQueue', () => {
  it('runs callbacks in deadline order, none before its deadline', () => {
    const t = new FakeTime();
    const q = new DeadlineQueue(t, t, 1500);
    const fired: Array<[string, number]> = [];
    q.schedule(5000, () => fired.push(['c', t.nowUs()]));
    q.schedule(1000, () => fired.push(['a', t.nowUs()]));
    q.schedule(3000, () => fired.push(['b', t.nowUs()]));
    t.advance(10_000);
    assert.deepEqual(fired.map(([n]) => n), ['a', 'b', 'c']);
    for (const [name, at] of fired) {
      const deadline = { a: 1000, b: 3000, c: 5000 }[name] as number;
      assert.ok(at >= deadline && at <= deadline + 2, `${name} fired at ${at}, deadline ${deadline}`);
    }
    assert.equal(q.size, 0);
  });
  it('sleeps with timers far from the deadline and polls only inside the spin window', () => {
    const t = new FakeTime();
    const q = new DeadlineQueue(t, t, 500);
    q.schedule(100_000, () => undefined);
    t.advance(101_000, 1);
    // ~99.5 ms of sleeping is one timeout; polling covers only the last ~500 µs.
    assert.ok(t.timeoutsRun <= 2, `timeouts ${t.timeoutsRun}`);
    assert.ok(t.immediatesRun <= 600, `immediates ${t.immediatesRun}`);
  });
  it('re-arms for an earlier deadline scheduled later', () => {
    const t = new FakeTime();
    const q = new DeadlineQueue(t, t, 100);
    const fired: number[] = [];
    q.schedule(50_000, () => fired.push(t.nowUs()));
    q.schedule(2_000, () => fired.push(t.nowUs()));
    t.advance(60_000);
    assert.equal(fired.length, 2);
    assert.ok((fired[0] as number) < 3000);
  });
});
