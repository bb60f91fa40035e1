import assert from 'node:assert/strict';
import { cliffsDelta, effectMagnitude } from '../../harness/results/stats/cliffsDelta';
import { detectableChange, detectableShiftSd, pooledSd } from '../../harness/results/stats/detectableChange';
import { mannWhitneyGreater } from '../../harness/results/stats/mannWhitney';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';

describe("Cliff's δ", () => {
  it('counts dominance over all pairs: the bar example is +8/9', () => {
    // head 11, 12, 12 over base 10, 10, 11: 8 pairs above, 1 tie (11 = 11), none below.
    const d = cliffsDelta([11, 12, 12], [10, 10, 11]);
    assert.equal(d.delta, 8 / 9);
    assert.equal(d.magnitude, 'large');
    assert.equal(cliffsDelta([1, 2, 3], [1, 2, 3]).delta, 0);
    assert.equal(cliffsDelta([1, 2], [5, 6]).delta, -1);
  });

  it("labels magnitudes at Romano et al.'s thresholds", () => {
    assert.deepEqual([0.1, -0.2, 0.4, -0.5, 0.147, 0.33, 0.474].map(effectMagnitude), ['negligible', 'small', 'medium', 'large', 'small', 'medium', 'large']);
  });
});

describe('minimum detectable change', () => {
  it('is null when the repetitions can never reach α (2 + 2: p ≥ 1/6)', () => {
    assert.equal(detectableShiftSd(2, 2, 0.05), null);
    assert.equal(detectableChange([100, 101], [100, 102], 5, 0.05).pct, null);
  });

  it('shrinks as repetitions grow, and is near the textbook normal-theory figure for 15 + 15', () => {
    const k3 = detectableShiftSd(3, 3, 0.05) as number;
    const k5 = detectableShiftSd(5, 5, 0.05) as number;
    const k15 = detectableShiftSd(15, 15, 0.05) as number;
    assert.ok(k3 > k5 && k5 > k15, `${k3} ${k5} ${k15}`);
    // (z_0.95 + z_0.8)·√(2/15)/√(3/π) = 0.93 SD (Lehmann's asymptotic relative efficiency 3/π to the t-test).
    assert.ok(Math.abs(k15 - 0.93) < 0.1, `${k15}`);
  });

  it('is what it says: a shift of that size is flagged in ~80 % of simulated 5 + 5 comparisons', () => {
    const k = detectableShiftSd(5, 5, 0.05) as number;
    const random = seededRandom(99);
    let flagged = 0;
    const trials = 2000;
    for (let t = 0; t < trials; t += 1) {
      const base = Array.from({ length: 5 }, () => gaussian(random));
      const head = Array.from({ length: 5 }, () => gaussian(random) + k);
      if (mannWhitneyGreater(head, base).pValue <= 0.05) flagged += 1;
    }
    assert.ok(Math.abs(flagged / trials - 0.8) < 0.03, `${flagged / trials}`);
  });

  it('adds the gate allowance to the shift, in % of the base median', () => {
    const base = [100, 102, 98, 101, 99];
    const head = [101, 103, 99, 100, 102];
    const sd = pooledSd(base, head) as number;
    const mdc = detectableChange(base, head, 5, 0.05);
    assert.ok(Math.abs((mdc.noisePct as number) - sd) < 1e-9, 'base median is 100, so the noise in % equals the SD');
    assert.ok(Math.abs((mdc.pct as number) - (5 + (detectableShiftSd(5, 5, 0.05) as number) * sd)) < 1e-9);
  });
});
