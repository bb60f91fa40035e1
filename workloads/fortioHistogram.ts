/*
 * fortio's bucketed histogram (fortio.org/fortio/stats: Counter, Histogram, Export, CalcPercentile),
 * ported so the fortio export holds the same buckets fortio itself would have written. meshbench's
 * latencies come from HDR histograms (exact to 3 digits); this module serves the fortio view of them and
 * records the response sizes the way fortio does (Sizes: divider 100, HeaderSizes: divider 5).
 */

/** fortio's bucket upper bounds (stats.histogramBucketValues); a value v lands in the first bucket with (v − offset) / divider ≤ bound. */
export const fortioBucketValues: readonly number[] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90, 100,
  120, 140, 160, 180, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000,
  2000, 3000, 4000, 5000, 7500, 10000, 20000, 30000, 40000, 50000, 75000, 100000,
];
const numValues = fortioBucketValues.length;
/** One bucket per value plus the last one for values above 100000 (× divider). */
const numBuckets = numValues + 1;
const lastValue = fortioBucketValues[numValues - 1] as number;

/** One exported bucket: [Start, End] and the cumulative percent up to End (fortio's stats.Bucket). */
export interface FortioBucket {
  Start: number;
  End: number;
  Percent: number;
  Count: number;
}

/** fortio's stats.HistogramData, field for field: what fortio writes and its report page reads. */
export interface FortioHistogramData {
  Count: number;
  Min: number;
  Max: number;
  Sum: number;
  Avg: number;
  StdDev: number;
  Data: FortioBucket[];
  /** Omitted when empty (fortio's `json:"Percentiles,omitempty"`). */
  Percentiles?: Array<{ Percentile: number; Value: number }>;
}

/** Bucket index of a scaled value, with fortio's left-open intervals ]prev, bound]. */
function bucketIndex(scaled: number): number {
  if (scaled <= 0) return 0;
  if (scaled > lastValue) return numBuckets - 1;
  // Binary search for the first bound ≥ scaled (fortio uses a lookup table and an epsilon; same buckets).
  let lo = 1;
  let hi = numValues - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((fortioBucketValues[mid] as number) >= scaled) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * fortio's Histogram: a Counter (count, min, max, sum, sum of squares) plus fixed buckets of
 * (value − offset) / divider. Recording the same value again (the common case for response sizes)
 * skips the bucket search.
 */
export class FortioHistogram {
  private readonly counts = new Float64Array(numBuckets);
  private count = 0;
  private min = 0;
  private max = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private lastValue = Number.NaN;
  private lastIndex = 0;

  constructor(readonly offset: number, readonly divider: number) {
    if (!(divider > 0)) throw new RangeError('divider must be > 0');
  }

  /** Records `n` occurrences of `v` (sum of squares grows by n·v², not fortio's (n·v)², the bug style.md names). */
  record(v: number, n = 1): void {
    if (this.count === 0) {
      this.min = v;
      this.max = v;
    } else if (v < this.min) this.min = v;
    else if (v > this.max) this.max = v;
    this.count += n;
    this.sum += v * n;
    this.sumOfSquares += v * v * n;
    if (v !== this.lastValue) {
      this.lastValue = v;
      this.lastIndex = bucketIndex((v - this.offset) / this.divider);
    }
    this.counts[this.lastIndex] = (this.counts[this.lastIndex] as number) + n;
  }

  /** Adds a bucket's count with the Counter statistics given apart (for histograms converted from HDR). */
  recordBucket(representative: number, n: number): void {
    const i = bucketIndex((representative - this.offset) / this.divider);
    this.counts[i] = (this.counts[i] as number) + n;
  }

  /** Overrides the Counter statistics (used with recordBucket, when exact figures are known apart). */
  setCounter(c: { count: number; min: number; max: number; sum: number; stdDev: number }): void {
    this.count = c.count;
    this.min = c.min;
    this.max = c.max;
    this.sum = c.sum;
    const avg = c.count === 0 ? 0 : c.sum / c.count;
    this.sumOfSquares = c.count * (c.stdDev * c.stdDev + avg * avg);
  }

  /** fortio's Histogram.Export(): buckets with data, the first starting at Min and the last ending at Max. */
  export(percentiles: readonly number[] = []): FortioHistogramData {
    const avg = this.count === 0 ? 0 : this.sum / this.count;
    const variance = this.count === 0 ? 0 : (this.sumOfSquares - (this.sum * this.sum) / this.count) / this.count;
    const res: FortioHistogramData = {
      Count: this.count, Min: this.min, Max: this.max, Sum: this.sum, Avg: avg, StdDev: variance > 0 ? Math.sqrt(variance) : 0, Data: [],
    };
    let lastIdx = -1;
    for (let i = numBuckets - 1; i >= 0; i -= 1) {
      if ((this.counts[i] as number) > 0) {
        lastIdx = i;
        break;
      }
    }
    if (lastIdx === -1) return res;
    let prev = fortioBucketValues[0] as number;
    let total = 0;
    for (let i = 0; i <= lastIdx; i += 1) {
      const n = this.counts[i] as number;
      if (n === 0) {
        if (i < numValues) prev = fortioBucketValues[i] as number;
        continue;
      }
      total += n;
      const start = res.Data.length === 0 ? this.min : this.divider * prev + this.offset;
      let end: number;
      if (i < numValues) {
        const cur = fortioBucketValues[i] as number;
        end = this.divider * cur + this.offset;
        prev = cur;
      } else end = this.max;
      res.Data.push({ Start: start, End: end, Percent: (100 * total) / this.count, Count: n });
    }
    (res.Data[res.Data.length - 1] as FortioBucket).End = this.max;
    if (percentiles.length > 0 && this.count > 0) res.Percentiles = percentiles.map((p) => ({ Percentile: p, Value: fortioPercentile(res, p) }));
    return res;
  }
}

/** fortio's HistogramData.CalcPercentile: linear interpolation inside the bucket that crosses p. */
export function fortioPercentile(e: FortioHistogramData, percentile: number): number {
  if (e.Data.length === 0) return 0;
  if (percentile >= 100) return e.Max;
  let pp = 100 / e.Count;
  if (percentile <= pp) return e.Min;
  for (const cur of e.Data) {
    if (percentile <= cur.Percent) return cur.Start + ((percentile - pp) / (cur.Percent - pp)) * (cur.End - cur.Start);
    pp = cur.Percent;
  }
  return e.Max;
}
