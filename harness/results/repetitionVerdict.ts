import { figureInterval, type FigurePoint } from './summaryIntervals';
import type { SummaryGroup, SummaryRecord } from './summaryTypes';

/*
 * "Repetitions until the answer is clear" (`repetitions: {min, max, until}`), after Chromium Pinpoint,
 * which keeps adding repetitions until its comparison is significant or a cap is reached. meshbench
 * decides per point, on one figure: the median P99 latency over the point's headline repetitions. P99
 * because it is the noisiest headline figure and the one gates and the rate search judge by: when its
 * interval is tight, so are P50's and the CPU's. The interval is the summary's own (95 % percentile
 * bootstrap of the median, seeded per point and figure), so the summary shows exactly the interval that
 * stopped the repetitions.
 */

/** The figure that decides whether a point's answer is clear. */
export const settlingFigure = 'latencyP99Us' as const;

/** Whether a point's repetitions have settled, and how wide its interval is. */
export interface RepetitionSettlement {
  /** Half the width of the 95 % interval of the median P99, as a share of that median; null with fewer than 2 repetitions. */
  readonly halfWidthShare: number | null;
  /** At least `min` repetitions and halfWidthShare ≤ `until`. */
  readonly settled: boolean;
}

/**
 * Pure: settles a point from its repetitions' P99 values (µs). Needs at least `min` values and at least
 * 2 (an interval needs two); a median of 0 settles only on an interval of width 0.
 */
export function pointSettlement(p99Us: readonly number[], at: FigurePoint, min: number, untilShare: number): RepetitionSettlement {
  const ci = figureInterval(p99Us, at, settlingFigure);
  if (ci === null) return { halfWidthShare: null, settled: false };
  const sorted = [...p99Us].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 === 1 ? (sorted[n >> 1] as number) : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  const half = (ci.high - ci.low) / 2;
  const halfWidthShare = median > 0 ? half / median : half === 0 ? 0 : Number.POSITIVE_INFINITY;
  return { halfWidthShare, settled: n >= min && halfWidthShare <= untilShare };
}

/** What the summary says per point of a run with `repetitions: {min, max, until}`. */
export interface RepetitionVerdict extends RepetitionSettlement {
  readonly figure: typeof settlingFigure;
  readonly min: number;
  readonly max: number;
  /** The `until` share (0.05 for 5 %). */
  readonly untilShare: number;
  /** The point ran `max` repetitions without settling. */
  readonly reachedMax: boolean;
}

/**
 * Pure: the summary with `repetitionVerdict` on every group, for a run whose profile had adaptive
 * repetitions (untilShare not null); the summary unchanged otherwise.
 */
export function withRepetitionVerdicts(summary: SummaryRecord, policy: { readonly min: number; readonly max: number; readonly untilShare: number | null }): SummaryRecord {
  const until = policy.untilShare;
  if (until === null) return summary;
  return {
    ...summary,
    groups: summary.groups.map((g): SummaryGroup => {
      const s = pointSettlement(g.latencyP99Us?.values ?? [], g, policy.min, until);
      return { ...g, repetitionVerdict: { ...s, figure: settlingFigure, min: policy.min, max: policy.max, untilShare: until, reachedMax: !s.settled && g.repetitions >= policy.max } };
    }),
  };
}

const pct = (share: number | null): string => (share === null ? 'n/a' : Number.isFinite(share) ? `${(100 * share).toFixed(1)}%` : '∞');

/**
 * One line per point: its repetitions and whether its median P99 settled (text and Markdown use it). Repetitions
 * that recorded no request (latencyLeftOut) have no P99: the line counts them and says why, since they count
 * towards `max` but not towards `min` or the interval.
 */
export function repetitionVerdictText(g: Pick<SummaryGroup, 'repetitions' | 'latencyLeftOut'> & { readonly repetitionVerdict?: RepetitionVerdict }): string | null {
  const v = g.repetitionVerdict;
  if (v === undefined) return null;
  const out = g.latencyLeftOut;
  const without = out === undefined ? '' : out.repetitions >= g.repetitions ? `, none with a P99 (${out.reason})` : `, ${out.repetitions} without a P99 (${out.reason})`;
  const width = out !== undefined && out.repetitions >= g.repetitions ? 'no P99 interval' : `P99 interval ±${pct(v.halfWidthShare)} of its median`;
  if (v.settled) return `${g.repetitions} repetitions${without}: ${width} (≤ ±${pct(v.untilShare)}): settled`;
  if (v.reachedMax) return `${g.repetitions} repetitions (max ${v.max} reached${without}): ${width}${v.halfWidthShare === null ? '' : ` (> ±${pct(v.untilShare)})`}: not settled`;
  return `${g.repetitions} repetitions (run stopped before max ${v.max}${without}): ${width}${v.halfWidthShare === null ? '' : ` (> ±${pct(v.untilShare)})`}: not settled`;
}

/** The run summary's lines: one per point of a run with `repetitions: {…, until}`; none otherwise. */
export function repetitionVerdictLines(groups: readonly SummaryGroup[]): string[] {
  const withVerdict = groups.filter((g) => g.repetitionVerdict !== undefined);
  if (withVerdict.length === 0) return [];
  const first = withVerdict[0]?.repetitionVerdict as RepetitionVerdict;
  const lines = ['', `repetitions until the median P99's 95% interval is within ±${pct(first.untilShare)} (min ${first.min}, max ${first.max})`];
  for (const g of withVerdict) {
    const p = g.loadPoint;
    const load = `${p.qps === 0 ? 'max' : `${p.qps} qps`} c${p.connections}${p.payloadBytes > 0 ? ` ${p.payloadBytes}B` : ''}`;
    lines.push(`  ${g.repetitionVerdict?.reachedMax === true ? '⚠ ' : ''}${g.dataplane} ${g.placement} ${load}: ${repetitionVerdictText(g) ?? ''}`);
  }
  return lines;
}
