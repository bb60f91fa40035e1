import assert from 'node:assert/strict';
import { seededRandom } from '../../harness/results/stats/seededRandom';
import { FortioHistogram } from '../../workloads/fortioHistogram';
import { SizeCounts } from '../../workloads/sizeCounts';

describe('SizeCounts (response and head sizes on the hot path)', () => {
  it('exports exactly the fortio histogram that recording each size gives, runs of repeats and changes alike', () => {
    const counts = new SizeCounts();
    const direct = new FortioHistogram(0, 100);
    const rand = seededRandom(3);
    let size = 183;
    for (let i = 0; i < 50_000; i += 1) {
      // Long runs of one size (a load test), broken by other sizes and errors (0). Sizes stay where the sum of
      // squares is exact in a double (< 2^53), so n·v² and v² added n times agree to the bit.
      if (rand() < 0.01) size = rand() < 0.3 ? 0 : Math.floor(rand() * 20_000);
      counts.record(size);
      direct.record(size);
    }
    assert.deepEqual(counts.into(new FortioHistogram(0, 100)).export([50, 99]), direct.export([50, 99]));
    const total = counts.entries().reduce((n, [, c]) => n + c, 0);
    assert.equal(total, 50_000);
  });

  it('lists nothing when nothing was recorded', () => {
    assert.deepEqual(new SizeCounts().entries(), []);
    assert.deepEqual(new SizeCounts().into(new FortioHistogram(0, 5)).export(), new FortioHistogram(0, 5).export());
  });
});
