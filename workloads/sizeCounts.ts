import type { FortioHistogram } from './fortioHistogram';
import type { Bytes } from './units';

/**
 * How many times each size (bytes) was seen: the hot path's record of response and head sizes. Responses of a
 * load test nearly always repeat one size, so a repeat is one compare and one increment (the run of the
 * current size); a new size folds that run into a Map keyed by size. Converted to fortio's Sizes/HeaderSizes
 * histograms once, at the end (`into`), with the same buckets and Counter as recording each size there:
 * recording through FortioHistogram per request cost ~2 % of the client's CPU in max mode (issue 12).
 */
export class SizeCounts {
  private runSize = -1;
  private runCount = 0;
  private readonly counts = new Map<Bytes, number>();

  record(size: Bytes): void {
    if (size === this.runSize) {
      this.runCount += 1;
      return;
    }
    this.foldRun();
    this.runSize = size;
    this.runCount = 1;
  }

  /** Sizes seen, with their counts, ascending by size. */
  entries(): Array<[Bytes, number]> {
    this.foldRun();
    return [...this.counts].sort((a, b) => a[0] - b[0]);
  }

  /**
   * Records every size into `h` with its count (FortioHistogram.record(v, n)): what recording one by one gives,
   * to the bit while the sum of squares stays below 2^53 (e.g. 10^7 responses of 10 KB), else equal to rounding.
   */
  into(h: FortioHistogram): FortioHistogram {
    for (const [size, n] of this.entries()) h.record(size, n);
    return h;
  }

  private foldRun(): void {
    if (this.runCount === 0) return;
    this.counts.set(this.runSize, (this.counts.get(this.runSize) ?? 0) + this.runCount);
    this.runCount = 0;
    this.runSize = -1;
  }
}
