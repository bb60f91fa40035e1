import { spread } from '../../harness/results/summarise';
import { eDivisive } from '../../harness/results/stats/eDivisive';
import { seedFrom, seededRandom } from '../../harness/results/stats/seededRandom';
import type { GateMetric, GateThreshold } from '../compare/gateMetrics';
import type { HistoryPoint } from './historyModel';

/** A change point in the nightly series of one gated metric of one data plane at one load point. */
export interface HistoryChangePoint {
  readonly metric: GateMetric;
  readonly dataplane: string;
  readonly load: string;
  /** The first run of the new level, and where it is in the series (0 = oldest run of this series). */
  readonly runId: string;
  readonly startedAt: string;
  readonly gitCommit: string | null;
  readonly index: number;
  /** Medians of the series' values between the neighbouring change points, before and after; change in %. */
  readonly beforeMedian: number;
  readonly afterMedian: number;
  readonly changePct: number;
  readonly direction: 'worse' | 'better';
  readonly pValue: number;
  /** Found with the newest run and not without it (no change point within ±1 run before): what the nightly job reports. */
  readonly isNew: boolean;
}

/** Settings of the detection, stated in the outputs. */
export const changePointSettings = { alpha: 0.01, permutations: 199, minSize: 3 } as const;

/** Which way is worse for a metric: its gate's, else throughput down and everything else up. */
export function worseDirection(metric: GateMetric, gate: GateThreshold | undefined): GateThreshold['worse'] {
  return gate?.worse ?? (metric === 'throughput.max' ? 'decrease' : 'increase');
}

/**
 * Change points (E-divisive means, harness/results/stats/eDivisive.ts) in each data plane × load point
 * series of one metric, oldest run first. A change point is new when the series without its newest run
 * has none within one run of it (and the newest run measured the series): the analysis is stateless, so
 * the nightly job needs no memory of what it reported yesterday. Seeded per series: the same runs give the same change points.
 */
export function detectChangePoints(points: readonly HistoryPoint[], metric: GateMetric, worse: GateThreshold['worse']): HistoryChangePoint[] {
  const series = new Map<string, HistoryPoint[]>();
  for (const p of points) series.set(`${p.dataplane}|${p.load}`, [...(series.get(`${p.dataplane}|${p.load}`) ?? []), p]);
  const newest = [...points].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId)).at(-1)?.runId;
  const out: HistoryChangePoint[] = [];
  for (const [key, pts] of series) {
    // A series the newest run did not measure brings nothing new tonight.
    const measuredTonight = pts.at(-1)?.runId === newest;
    const values = pts.map((p) => p.value);
    const detect = (v: readonly number[]) => eDivisive(v, { random: seededRandom(seedFrom(`${metric}|${key}`)), ...changePointSettings });
    const now = detect(values);
    if (now.length === 0) continue;
    const before = detect(values.slice(0, -1));
    const bounds = [0, ...now.map((c) => c.index), values.length];
    now.forEach((c, i) => {
      const at = pts[c.index] as HistoryPoint;
      const beforeMedian = spread(values.slice(bounds[i] as number, c.index)).median;
      const afterMedian = spread(values.slice(c.index, bounds[i + 2] as number)).median;
      const changePct = beforeMedian === 0 ? 0 : (100 * (afterMedian - beforeMedian)) / beforeMedian;
      out.push({
        metric, dataplane: at.dataplane, load: at.load, runId: at.runId, startedAt: at.startedAt, gitCommit: at.gitCommit, index: c.index,
        beforeMedian, afterMedian, changePct, direction: (worse === 'increase') === (afterMedian > beforeMedian) ? 'worse' : 'better', pValue: c.pValue,
        isNew: measuredTonight && !before.some((b) => Math.abs(b.index - c.index) <= 1),
      });
    });
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.dataplane.localeCompare(b.dataplane) || a.load.localeCompare(b.load));
}
