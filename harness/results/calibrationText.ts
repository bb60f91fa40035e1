import type { CalibrationVerdict } from '../attribution/calibrationVerdict';
import { burnTolerance, countTolerance } from '../attribution/calibrationVerdict';
import { simultaneousConfidence } from '../attribution/breakdownInterval';
import type { SummaryGroup } from './summaryTypes';

/*
 * The calibration table for people (pure: verdicts in, rows out), shared by the run's closing text and the
 * report's Markdown/HTML: one row per control and load point, injected against found.
 */

/** "baseline+burn200us" for a calibration variant's group, the data plane's name otherwise. */
export function groupLabel(g: Pick<SummaryGroup, 'dataplane' | 'variant'>): string {
  if (g.variant === undefined) return g.dataplane;
  return `${g.dataplane}+${g.variant.replace(/[^A-Za-z0-9]/g, '')}`;
}

const fmt = (v: number, d = 1): string => v.toFixed(d);
const signed = (v: number, d = 1): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;

/** The bar each kind of control is held to, in words. */
export const calibrationBarText = `burn → application µs/request within ±${100 * burnTolerance}% of the burn; copies → bytes copied/request = N × reply bytes (±${100 * countTolerance}%) and copying up; connects → connections opened/request = N (±${100 * countTolerance}%) and connections up; switches → context switches/request ≥ N and scheduling up; every other category's interval holding 0 (simultaneous intervals: 95 % for all together, Bonferroni, ${(100 * simultaneousConfidence(0.95)).toFixed(2)} % each; over 2 or more repetitions Student's t over the per-repetition differences, or the bootstrap's where wider)`;

/** Header and one row of cells per verdict: control, load, injected, category found [interval], counted, others moved, verdict. */
export function calibrationRows(verdicts: readonly CalibrationVerdict[]): string[][] {
  const rows: string[][] = [['control', 'load', 'injected/request', 'found in its category (µs/request [95%])', 'counted/request over baseline', 'other categories moved', 'verdict']];
  for (const v of verdicts) {
    const p = v.loadPoint;
    const injected = v.injected === null ? 'n/a (reply size unknown)' : v.kind === 'burn' ? `${fmt(v.injected, 0)} µs CPU` : `${fmt(v.injected, 0)} ${v.injectedUnit}`;
    const found = v.categoryUs === null || v.categoryIntervalUs === null ? '—' : `${v.category} ${signed(v.categoryUs)} [${fmt(v.categoryIntervalUs.low)}, ${fmt(v.categoryIntervalUs.high)}]`;
    const counted = v.kind === 'burn' ? '—' : v.counted === null ? 'not measured' : `${signed(v.counted, v.kind === 'copies' ? 1 : 2)} ${v.injectedUnit}${v.countedRange !== null && fmt(v.countedRange.low, 2) !== fmt(v.countedRange.high, 2) ? ` [${fmt(v.countedRange.low, 2)}–${fmt(v.countedRange.high, 2)}]` : ''}`;
    const moved = v.othersMoved.length === 0 ? 'none' : v.othersMoved.map((m) => `${m.category} ${signed(m.us)}`).join(', ');
    const mark = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'met' : 'missed');
    const verdict = v.bars === null ? v.verdict : `${v.verdict} (category ${mark(v.bars.category)}, count ${mark(v.bars.count)}, others ${mark(v.bars.others)})`;
    rows.push([v.control, `${p.qps === 0 ? 'max' : `${p.qps} qps`} c${p.connections}`, injected, found, counted, moved, verdict]);
  }
  return rows;
}
