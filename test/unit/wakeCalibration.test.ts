import assert from 'node:assert/strict';
import { chooseMargin, marginMaxUs, marginMinUs, marginQuantile, quantileSorted } from '../../workloads/wakeCalibration';

describe('wake calibration: the early wake-up margin', () => {
  it('takes the nearest-rank quantile', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i + 1); // 1..20
    assert.equal(quantileSorted(xs, 0.5), 10);
    assert.equal(quantileSorted(xs, 0.75), 15);
    assert.equal(quantileSorted(xs, 0.9), 18);
    assert.equal(quantileSorted(xs, 1), 20);
    assert.ok(Number.isNaN(quantileSorted([], 0.5)));
  });

  it('chooses the configured quantile of the lateness, rounded up, and summarises it', () => {
    const lateness = Array.from({ length: 24 }, (_, i) => 10.5 + i * 2); // 10.5 … 56.5 µs, unsorted below
    const c = chooseMargin([...lateness].reverse());
    assert.equal(c.marginUs, Math.ceil(quantileSorted(lateness, marginQuantile)));
    assert.deepEqual(c.lateness, { samples: 24, p50Us: 32.5, p90Us: 52.5, p99Us: 56.5, maxUs: 56.5 });
  });

  it('clamps the margin: at least one loop turn, at most the ceiling beyond which spinning costs more than it saves', () => {
    assert.equal(chooseMargin([0, 0, 0, 1]).marginUs, marginMinUs);
    assert.equal(chooseMargin(Array.from({ length: 10 }, () => 50_000)).marginUs, marginMaxUs);
    assert.equal(chooseMargin([]).marginUs, marginMaxUs, 'nothing measured: the cautious margin');
  });
});
