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

/** An HDR histogram of latencies with 1 µs resolution and 3 significant digits. */
export class LatencyHistogram {
  readonly hdr: hdr.Histogram;
  clampedCount = 0;

  constructor(existing?: hdr.Histogram) {
    this.hdr = existing ?? hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: highestTrackableUs,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: 32,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  record(latencyUs: Microseconds): void {
    let v = Math.round(latencyUs);
    if (v < 0) v = 0;
    else if (v > highestTrackableUs) {
      v = highestTrackableUs;
      this.clampedCount += 1;
    }
    this.hdr.recordValue(v);
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  reset(): void {
    this.hdr.reset();
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
