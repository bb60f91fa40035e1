import assert from 'node:assert/strict';
import { chooseMargin, marginMaxUs, marginMinUs, quantileSorted, spinBudget } from '../../workloads/wakeCalibration';

describe('wake calibration: the early wake-up margin', () => {
  it('takes the nearest-rank quantile', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    assert.equal(quantileSorted(xs, 0.5), 10);
    assert.equal(quantileSorted(xs, 0.9), 18);
    assert.equal(quantileSorted(xs, 1), 20);
    assert.ok(Number.isNaN(quantileSorted([], 0.5)));
  });

  it('covers the p90 when that fits the spin budget of the sleep, and summarises the samples', () => {
    const lateness = [30, 10, 20, 40, 50, 60, 70, 80, 90, 100]; // p50 50, p90 90 µs
    const c = chooseMargin(20_000, lateness); // budget 0.02 × 20 ms = 400 µs
    assert.equal(spinBudget, 0.02);
    assert.deepEqual(c, { sleepUs: 20_000, lateness: { samples: 10, p50Us: 50, p90Us: 90, maxUs: 100 }, marginUs: 90 });
  });

  it('covers at least the median, or the whole budget, when the p90 would cost more', () => {
    const lateness = [30, 10, 20, 40, 50, 60, 70, 80, 90, 100];
    assert.equal(chooseMargin(1000, lateness).marginUs, 50, 'budget 20 µs < median');
    assert.equal(chooseMargin(4000, lateness).marginUs, 80, 'budget 80 µs between median and p90');
    assert.equal(chooseMargin(200, [10.2, 10.4, 100]).marginUs, 11, 'the median, rounded up');
  });

  it('clamps the margin: at least one loop turn, at most 1 ms; nothing measured gives the cautious maximum', () => {
    assert.equal(chooseMargin(200, [0, 0, 0, 1]).marginUs, marginMinUs);
    assert.equal(chooseMargin(1000, Array.from({ length: 10 }, () => 50_000)).marginUs, marginMaxUs);
    assert.equal(chooseMargin(1000, []).marginUs, marginMaxUs);
  });
});
