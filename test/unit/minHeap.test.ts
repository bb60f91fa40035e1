import assert from 'node:assert/strict';
import { seededRandom } from '../../harness/results/stats/seededRandom';
import { MinHeap } from '../../workloads/minHeap';

interface Item { readonly atUs: number; readonly seq: number }
const before = (a: Item, b: Item): boolean => a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);

describe('MinHeap: the timers\' heap', () => {
  it('is empty at first and after clear; peek does not remove', () => {
    const h = new MinHeap<number>((a, b) => a < b);
    assert.equal(h.size, 0);
    assert.equal(h.peek(), undefined);
    assert.equal(h.pop(), undefined);
    h.push(3);
    h.push(1);
    assert.equal(h.peek(), 1);
    assert.equal(h.size, 2);
    h.clear();
    assert.equal(h.size, 0);
    assert.equal(h.pop(), undefined);
  });

  it('pops in the order of its rule, ties in insertion order, under interleaved pushes and pops (fixed seed)', () => {
    const random = seededRandom(12);
    const h = new MinHeap<Item>(before);
    const reference: Item[] = [];
    let seq = 0;
    for (let step = 0; step < 5000; step += 1) {
      if (reference.length === 0 || random() < 0.55) {
        const item = { atUs: Math.floor(random() * 50), seq: seq++ }; // few distinct values: many ties
        h.push(item);
        reference.push(item);
        reference.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
      } else {
        assert.equal(h.pop(), reference.shift(), `step ${step}`);
      }
      assert.equal(h.size, reference.length);
      assert.equal(h.peek(), reference[0]);
    }
    while (reference.length > 0) assert.equal(h.pop(), reference.shift());
    assert.equal(h.size, 0);
  });
});
