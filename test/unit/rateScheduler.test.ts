import assert from 'node:assert/strict';
import { RateScheduler } from '../../workloads/rateScheduler';
import { FakeTime } from '../helpers/fakeTime';

describe('RateScheduler (open loop, injected clock)', () => {
  it('releases exactly qps × seconds requests, each at or after its intended time', () => {
    const t = new FakeTime();
    const released: Array<{ intended: number; at: number }> = [];
    const s = new RateScheduler(20_000, t, t, (intended) => released.push({ intended, at: t.nowUs() }), (intended) => intended < 1_000_000, 200);
    s.start(0);
    t.advance(1_100_000, 5);
    assert.equal(released.length, 20_000);
    released.forEach((r, i) => {
      assert.equal(r.intended, i * 50);
      assert.ok(r.at >= r.intended, `request ${i} released early`);
    });
    const maxLagUs = Math.max(...released.map((r) => r.at - r.intended));
    assert.ok(maxLagUs <= 10, `max lag ${maxLagUs} µs with a precise timer`);
  });

  it('keeps the schedule when releases are late: a blocked loop catches up with the intended times', () => {
    const t = new FakeTime();
    const released: number[] = [];
    const s = new RateScheduler(1000, t, t, (intended) => released.push(intended), (_i, index) => index < 100, 200);
    s.start(0);
    // The loop is blocked for 30 ms: nothing runs, then everything due is released at once.
    t.advance(1, 1);
    const before = released.length;
    (t as unknown as { now: number }).now = 30_000;
    t.advance(1, 1);
    assert.ok(released.length - before >= 29, 'the backlog is released, not skipped');
    t.advance(200_000, 10);
    assert.equal(released.length, 100);
    assert.deepEqual(released, Array.from({ length: 100 }, (_, i) => i * 1000));
  });

  it('sleeps between requests instead of polling when the gap is long', () => {
    const t = new FakeTime();
    const s = new RateScheduler(10, t, t, () => undefined, (intended) => intended < 1_000_000, 200);
    s.start(0);
    t.advance(1_000_000, 1);
    assert.ok(t.timeoutsRun >= 9 && t.timeoutsRun <= 11, `timeouts ${t.timeoutsRun}`);
    assert.ok(t.immediatesRun <= 10 * 210, `immediates ${t.immediatesRun}`);
  });

  it('numbers requests in order and releases what is due at once on flush (a window closing on a late wake-up)', () => {
    const t = new FakeTime();
    const released: Array<[number, number]> = [];
    const s = new RateScheduler(1000, t, t, (intended, index) => released.push([intended, index]), (intended) => intended < 10_000, 200);
    s.start(0);
    (t as unknown as { now: number }).now = 5_500; // the loop was blocked: nothing ran since the start
    s.flush();
    assert.deepEqual(released, [0, 1, 2, 3, 4, 5].map((i) => [i * 1000, i]));
  });

  it('refuses a non-positive rate', () => {
    const t = new FakeTime();
    assert.throws(() => new RateScheduler(0, t, t, () => undefined, () => true), RangeError);
  });
});
