import assert from 'node:assert/strict';
import { AdaptiveWakeMargin, defaultAdaptiveWakeMargin, type AdaptiveWakeMarginOptions } from '../../workloads/adaptiveWakeMargin';
import { initialLatenessUs } from '../../workloads/loadTimers';
import { chooseMargin } from '../../workloads/wakeCalibration';

const options = (o: Partial<AdaptiveWakeMarginOptions> = {}): AdaptiveWakeMarginOptions =>
  ({ spinBudget: 0.02, fullBudgetSleepUs: 1000, maxUs: 1000, minUs: 4, halfLifeWakes: 10, initialLatenessUs: 0, ...o });

describe('adaptive wake margin: the early wake-up follows the lateness seen', () => {
  it('starts from the calibrated lateness and is capped by the spin budget of each sleep', () => {
    const m = new AdaptiveWakeMargin(options({ initialLatenessUs: 300 }));
    assert.equal(m.marginUs(50_000), 300, '20 QPS: the whole lateness fits 2 % of 50 ms');
    assert.equal(m.marginUs(1000), 20, '1,000 QPS: 2 % of 1 ms');
    assert.equal(m.marginUs(500), 5, 'below the full-budget sleep: 2 % × 500 µs × 500/1000');
    assert.equal(m.marginUs(200), 0, '5,000 QPS: 0.8 µs is below one loop turn, so no spin at all');
  });

  it('rises at once to a later wake-up, then halves every half-life', () => {
    const m = new AdaptiveWakeMargin(options({ initialLatenessUs: 10 }));
    m.observe(800);
    assert.equal(m.peakLatenessUs, 800);
    assert.equal(m.marginUs(50_000), 800);
    for (let i = 0; i < 10; i += 1) m.observe(0);
    assert.ok(Math.abs(m.peakLatenessUs - 400) < 1e-6, `one half-life later: ${m.peakLatenessUs}`);
    for (let i = 0; i < 90; i += 1) m.observe(0);
    assert.equal(m.marginUs(50_000), 0, 'ten half-lives of punctual wake-ups: below the minimum, no spin');
  });

  it('holds the peak of recent wake-ups, not their mean: one late in a hundred keeps the margin up', () => {
    const m = new AdaptiveWakeMargin(options({ halfLifeWakes: 64 }));
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 1000; i += 1) {
      m.observe(i % 100 === 0 ? 1000 : 50);
      if (i >= 100) lowest = Math.min(lowest, m.marginUs(50_000));
    }
    assert.ok(lowest >= 300, `the margin stayed ≥ 300 µs between late wake-ups (lowest ${lowest})`);
  });

  it('bounds what it learns: never above maxUs, negative or NaN lateness counts as punctual', () => {
    const m = new AdaptiveWakeMargin(options({ initialLatenessUs: 1e9, maxUs: 1000 }));
    assert.equal(m.marginUs(1e9), 1000);
    const n = new AdaptiveWakeMargin(options({ initialLatenessUs: Number.NaN }));
    n.observe(-5);
    n.observe(Number.NaN);
    assert.equal(n.peakLatenessUs, 0);
    n.observe(5000);
    assert.equal(n.peakLatenessUs, 1000);
  });

  it('rounds up to whole µs, and refuses a half-life that is not positive', () => {
    const m = new AdaptiveWakeMargin(options({ initialLatenessUs: 12.2 }));
    assert.equal(m.marginUs(10_000), 13);
    assert.throws(() => new AdaptiveWakeMargin(options({ halfLifeWakes: 0 })), RangeError);
  });

  it('defaults: no spin at 10,000 QPS, ≤ 5 µs at 1,000, up to 0.5 ms (within a scheduler slice) at 20', () => {
    const m = new AdaptiveWakeMargin({ ...defaultAdaptiveWakeMargin, initialLatenessUs: 1e6 });
    assert.equal(m.marginUs(100), 0);
    assert.ok(m.marginUs(1000) <= 5);
    assert.equal(m.marginUs(50_000), 500);
    for (const sleepUs of [1000, 5000, 50_000, 1e6]) assert.ok(m.marginUs(sleepUs) <= 0.05 * sleepUs + 1);
  });

  it('is seeded with the largest p90 the start-up calibration measured (0 when nothing was measured)', () => {
    const classes = [chooseMargin(200, [5, 6, 7, 8, 9, 10, 11, 12, 13, 90]), chooseMargin(20_000, [40, 50, 60, 70, 80, 90, 100, 110, 120, 900])];
    assert.equal(initialLatenessUs({ classes }), 120);
    assert.equal(initialLatenessUs({ classes: [chooseMargin(1000, [])] }), 0);
  });
});
