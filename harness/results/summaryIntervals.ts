import { medianInterval } from './stats/bootstrap';
import { seedFrom, seededRandom } from './stats/seededRandom';
import type { ConfidenceInterval } from './stats/bootstrap';
import type { Spread, SummaryGroup, SummaryRecord } from './summaryTypes';

/** What identifies a figure's point: the fields of summarise's groupKey. */
export interface FigurePoint {
  readonly dataplane: string;
  readonly placement: string;
  readonly loadPoint: { readonly protocol: string; readonly qps: number; readonly connections: number; readonly payloadBytes: number; readonly keepAlive: boolean };
}

/**
 * The 95 % percentile-bootstrap interval of the median of one headline figure of one point, seeded from
 * the point and the figure's name: the summary and the charts call this and get the same interval.
 * Null with fewer than 2 values.
 */
export function figureInterval(values: readonly number[], at: FigurePoint, field: string): ConfidenceInterval | null {
  const p = at.loadPoint;
  return medianInterval(values, { random: seededRandom(seedFrom(`${at.dataplane}|${at.placement}|${p.protocol}|${p.qps}|${p.connections}|${p.payloadBytes}|${p.keepAlive}|${field}`)) });
}

/**
 * The headline figures that carry an interval: each median over repetitions, and each difference against
 * the baseline (the latencyAdded* Spreads hold per-repetition differences against the baseline of the same
 * repetition, so the interval of their median is the interval of the difference).
 */
export const intervalFields = [
  'latencyP50Us', 'latencyP90Us', 'latencyP99Us', 'latencyP999Us', 'actualQps', 'cpuUsPerRequest',
  'latencyAddedP50Us', 'latencyAddedP50Pct', 'latencyAddedP99Us', 'latencyAddedP99Pct',
  'ebpfRunTimeUsPerRequest', 'extraCpuUsPerRequest',
] as const satisfies ReadonlyArray<keyof SummaryGroup>;

/**
 * Pure: the summary with a 95 % percentile-bootstrap interval on every headline Spread of 2 or more
 * values. Each figure resamples from its own generator, seeded from the group and the figure's name, so
 * an interval does not change when other figures are added and a summary is the same bytes every time.
 */
export function withIntervals(summary: SummaryRecord): SummaryRecord {
  return {
    ...summary,
    groups: summary.groups.map((g) => {
      const out: Record<string, unknown> = { ...g };
      for (const field of intervalFields) {
        const s = g[field] as Spread | null;
        if (s === null || s.values.length < 2) continue;
        const interval = figureInterval(s.values, g, field);
        if (interval !== null) out[field] = { ...s, interval };
      }
      return out as unknown as SummaryGroup;
    }),
  };
}
