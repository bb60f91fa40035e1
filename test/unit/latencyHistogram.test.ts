import assert from 'node:assert/strict';
import * as hdr from 'hdr-histogram-js';
import { seededRandom } from '../../harness/results/stats/seededRandom';
import { LatencyHistogram } from '../../workloads/latencyHistogram';

describe('LatencyHistogram', () => {
  it('resolves single microseconds', () => {
    const h = new LatencyHistogram();
    for (const v of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) h.record(v);
    const s = h.summary();
    assert.equal(s.minUs, 1);
    assert.equal(s.maxUs, 10);
    assert.equal(s.percentilesUs['50'], 5);
    assert.equal(s.meanUs, 5.5);
  });

  it('round-trips through the compressed encoding', () => {
    const h = new LatencyHistogram();
    let seed = 7;
    const rand = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
    for (let i = 0; i < 10_000; i += 1) h.record(Math.floor(rand() * 50_000));
    const back = LatencyHistogram.decode(h.encode());
    assert.deepEqual(back.summary(), h.summary());
    assert.deepEqual(back.buckets(), h.buckets());
  });

  it('matches a sorted-array reference for percentiles within HDR precision', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    for (let i = 0; i < 5000; i += 1) {
      const v = 10 + ((i * 7919) % 20_000);
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9]) {
      const ref = values[Math.ceil((p / 100) * values.length) - 1] as number;
      const got = h.percentileUs(p);
      assert.ok(Math.abs(got - ref) <= ref * 0.001 + 1, `p${p}: ${got} vs ${ref}`);
    }
  });

  it('counts negative values as 0 and clamps the absurd', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(1e12);
    assert.equal(h.count, 2);
    assert.equal(h.clampedCount, 1);
    assert.equal(h.summary().minUs, 0);
  });
});

describe('LatencyHistogram: values counted apart before they reach the HDR histogram', () => {
  it('gives exactly the histogram recording each value into hdr-histogram-js would, across the 2^14 µs boundary', () => {
    const h = new LatencyHistogram();
    const plain = new LatencyHistogram(hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: false, useWebAssembly: false }));
    const rand = seededRandom(12);
    for (let i = 0; i < 20_000; i += 1) {
      // Mostly below 16,384 µs (the counted-apart range), some above, some negative (recorded as 0), fractions rounded.
      const v = rand() < 0.8 ? rand() * 16_400 : rand() < 0.5 ? -rand() * 5 : rand() * 2_000_000;
      h.record(v);
      plain.hdr.recordValue(Math.max(0, Math.round(v)));
      if (i === 10_000) assert.equal(h.percentileUs(99), plain.percentileUs(99), 'a read mid-run sees every value so far');
    }
    assert.equal(h.count, 20_000);
    assert.deepEqual(h.summary(), plain.summary());
    assert.deepEqual(h.buckets(), plain.buckets());
    assert.equal(h.encode(), plain.encode());
    h.reset();
    assert.equal(h.count, 0);
    h.record(5);
    assert.equal(h.summary().maxUs, 5);
  });
});
