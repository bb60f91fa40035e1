import * as hdr from 'hdr-histogram-js';
import type { Microseconds } from './units';

/** Percentiles every result reports, as in fortio's default list plus the deep tail. */
export const reportedPercentiles = [50, 75, 90, 99, 99.9, 99.99] as const;

/** Up to one hour in µs; values above are clamped (and counted) rather than thrown on in the hot path. */
const highestTrackableUs = 3_600_000_000;

export interface LatencySummary {
  readonly count: number;
  readonly minUs: Microseconds;
  readonly maxUs: Microseconds;
  readonly meanUs: Microseconds;
  readonly stddevUs: Microseconds;
  /** Keyed by percentile as text: "50", "99.9". */
  readonly percentilesUs: Readonly<Record<string, Microseconds>>;
}

/**
 * Values below this (µs) are counted per exact value first and added to the HDR histogram when it is read.
 * hdr-histogram-js's recordValue costs ~160 ns (log2, two pow, min/max bookkeeping; measured under the machine
 * lock, 3 × 3 M values), an increment of a Float64Array ~5 ns, and the load client records up to three latencies
 * per request. Below 2^14 µs every value is its own HDR bucket or shares one (3 significant digits), so
 * adding the counts later gives exactly the histogram recording each would have. 16,384 × 8 bytes per histogram.
 */
const directLimitUs = 1 << 14;

/** An HDR histogram of latencies with 1 µs resolution and 3 significant digits. */
export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;
  clampedCount = 0;
  /** Counts per exact value below directLimitUs not yet in `histogram` (allocated on the first record). */
  private direct: Float64Array | undefined;
  private directPending = 0;

  constructor(existing?: hdr.Histogram) {
    this.histogram = existing ?? hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: highestTrackableUs,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: 32,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  /** The HDR histogram itself, with every value recorded so far (reading it folds in the pending counts). */
  get hdr(): hdr.Histogram {
    if (this.directPending > 0) this.flush();
    return this.histogram;
  }

  record(latencyUs: Microseconds): void {
    let v = Math.round(latencyUs);
    if (v < directLimitUs) {
      if (v < 0) v = 0;
      const d = this.direct ?? (this.direct = new Float64Array(directLimitUs));
      d[v] = (d[v] as number) + 1;
      this.directPending += 1;
      return;
    }
    if (v > highestTrackableUs) {
      v = highestTrackableUs;
      this.clampedCount += 1;
    }
    this.histogram.recordValue(v);
  }

  private flush(): void {
    const d = this.direct as Float64Array;
    for (let v = 0; v < directLimitUs; v += 1) {
      const n = d[v] as number;
      if (n === 0) continue;
      this.histogram.recordValueWithCount(v, n);
      d[v] = 0;
    }
    this.directPending = 0;
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  reset(): void {
    if (this.direct !== undefined) this.direct.fill(0);
    this.directPending = 0;
    this.histogram.reset();
    this.clampedCount = 0;
  }

  percentileUs(p: number): Microseconds {
    return this.hdr.totalCount === 0 ? 0 : this.hdr.getValueAtPercentile(p);
  }

  summary(percentiles: readonly number[] = reportedPercentiles): LatencySummary {
    const empty = this.hdr.totalCount === 0;
    // Min and max are bucket bounds (as HdrHistogram's Java getMaxValue does), so they survive encoding.
    const buckets = this.buckets();
    const percentilesUs: Record<string, Microseconds> = {};
    for (const p of percentiles) percentilesUs[String(p)] = this.percentileUs(p);
    return {
      count: this.hdr.totalCount,
      minUs: buckets[0]?.lowUs ?? 0,
      maxUs: buckets[buckets.length - 1]?.highUs ?? 0,
      meanUs: empty ? 0 : this.hdr.mean,
      stddevUs: empty ? 0 : this.hdr.stdDeviation,
      percentilesUs,
    };
  }

  /** Buckets with at least one value: [lowUs, highUs] inclusive and the count, lowest first. */
  buckets(): Array<{ lowUs: number; highUs: number; count: number }> {
    const js = this.hdr as unknown as hdr.JsHistogram;
    const out: Array<{ lowUs: number; highUs: number; count: number }> = [];
    const it = js.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      out.push({ lowUs: js.lowestEquivalentValue(v.valueIteratedTo), highUs: js.highestEquivalentValue(v.valueIteratedTo), count: v.countAtValueIteratedTo });
    }
    return out;
  }

  /** HdrHistogram's compressed base64 encoding, readable by every HdrHistogram implementation. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.hdr);
  }

  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded, 32, false));
  }
}
