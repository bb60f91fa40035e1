import { breakdownCategories, ebpfComponentName, type BreakdownCategory } from './resultTypes';
import type { LeftOut, Spread, SummaryGroup, SummaryRecord } from './summaryTypes';
import type { Interval } from '../attribution/breakdownInterval';
import { formatSigned, formatSignedUs, formatUs } from './formatUnits';
import { calibrationBarText, calibrationRows, groupLabel } from './calibrationText';
import { repetitionVerdictLines } from './repetitionVerdict';
import { searchSummaryLines } from './searchSummary';

/*
 * The run's closing summary for people (pure: summary in, text out). Every headline figure shows the
 * median and, with more than one repetition, its 95 % bootstrap interval [low–high] (or [min–max] where
 * a figure has no interval).
 */

const fmtMiB = (b: number): string => `${(b / (1024 * 1024)).toFixed(1)} MiB`;

function withSpread(s: Spread, f: (n: number) => string): string {
  if (s.interval !== undefined) return `${f(s.median)} [${f(s.interval.low)}–${f(s.interval.high)}]`;
  return s.values.length > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median);
}

/**
 * A figure some repetitions could not measure: "n/a (why)" when none did, else the figure over those that
 * did with how many were left out and why, e.g. "812 µs [790–840] (1 of 3 left out: no request completed)".
 */
export function measuredText(s: Spread | null, leftOut: LeftOut | undefined, repetitions: number, f: (n: number) => string): string {
  if (s === null) return `n/a (${leftOut?.reason ?? 'not measured'})`;
  return leftOut === undefined ? withSpread(s, f) : `${withSpread(s, f)} (${leftOut.repetitions} of ${repetitions} left out: ${leftOut.reason})`;
}

/** A perturbation median: "—" when no repetition of that kind had the figure. */
export const perturbed = (v: number | null, f: (n: number) => string): string => (v === null ? '—' : f(v));

/** What the brackets mean, printed under the headline table when any figure has an interval. */
export const intervalLegend = '[low–high]: 95 % percentile-bootstrap interval of the median over repetitions (2,000 seeded resamples); with 3 repetitions it is the min–max and covers the true median ~75 % of the time, from 5 repetitions on ~93 %';

function loadLabel(g: SummaryGroup): string {
  const p = g.loadPoint;
  const protocol = p.protocol === 'http' ? '' : ` ${p.protocol}${p.streams !== undefined && p.streams > 1 ? ` s${p.streams}` : ''}`;
  return `${p.qps === 0 ? 'max' : `${p.qps} qps`} c${p.connections}${p.payloadBytes > 0 ? ` ${p.payloadBytes}B` : ''}${p.keepAlive ? '' : ' new-conn'}${protocol}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

const shownCategories: readonly BreakdownCategory[] = breakdownCategories;

/** A number with U+2212 for its minus, as the run table's columns: "−4.5", not "-4.5" beside an en-dash range. */
const signed = (v: number, digits: number): string => v.toFixed(digits).replace(/^-/, '−');
const fmtInterval = (v: number, i: Interval | undefined, digits = 1): string => (i === undefined ? signed(v, digits) : `${signed(v, digits)} [${signed(i.low, digits)}–${signed(i.high, digits)}]`);

/**
 * The explained share as printed: a percentage (never outside 0–100 %) only when the extra CPU lies outside
 * its own 95 % interval, "n/a (within noise)" when it does not, "—" when there is no interval and no extra.
 */
export function explainedShareText(g: SummaryGroup): string {
  const u = g.breakdownUncertainty ?? null;
  const b = g.breakdown;
  if (u !== null) {
    if (u.explainedShare === null) return 'n/a (within noise)';
    const pct = (x: number): string => `${(100 * Math.min(1, Math.max(0, x))).toFixed(0)}%`;
    return u.explainedShareInterval === null ? pct(u.explainedShare) : `${pct(u.explainedShare)} [${pct(u.explainedShareInterval.low)}–${pct(u.explainedShareInterval.high)}]`;
  }
  if (b === null || b.extraCpuUsPerRequest <= 0) return '—';
  const pct = (x: number): string => `${(100 * Math.min(1, Math.max(0, x))).toFixed(0)}%`;
  return g.breakdownExplainedShare === null ? pct(b.explainedShare) : withSpread(g.breakdownExplainedShare, pct);
}

/** Categories as rows, one column per data plane × load point: each cell the mean µs/request [95 % interval]. */
function breakdownRows(groups: readonly SummaryGroup[]): string[][] {
  const rows: string[][] = [['category', ...groups.map((g) => `${groupLabel(g)} ${loadLabel(g)}`)]];
  const cell = (g: SummaryGroup, pick: 'extra' | BreakdownCategory): string => {
    const b = g.breakdown as NonNullable<SummaryGroup['breakdown']>;
    const u = g.breakdownUncertainty ?? null;
    if (pick === 'extra') return u === null ? (g.extraCpuUsPerRequest === null ? b.extraCpuUsPerRequest.toFixed(1) : withSpread(g.extraCpuUsPerRequest, (n) => n.toFixed(1))) : fmtInterval(u.extraCpuUsPerRequest, u.extraCpuIntervalUs);
    return u === null ? b.byCategoryUs[pick].toFixed(1) : fmtInterval(u.byCategoryUs[pick], u.byCategoryIntervalUs[pick]);
  };
  rows.push(['extra (mesh)', ...groups.map((g) => cell(g, 'extra'))]);
  for (const c of shownCategories) rows.push([c === 'instrumentation' ? 'instrumentation*' : c, ...groups.map((g) => cell(g, c))]);
  rows.push(['explained', ...groups.map(explainedShareText)]);
  const opt = (v: number | null): string => (v === null ? '—' : v.toFixed(1));
  rows.push(['bytes/req', ...groups.map((g) => opt(g.breakdown?.extraBytesCopiedPerRequest ?? null))]);
  rows.push(['conns/req', ...groups.map((g) => opt(g.breakdown?.extraConnectionsPerRequest ?? null))]);
  rows.push(['ctx sw/req', ...groups.map((g) => opt(g.breakdown?.extraContextSwitchesPerRequest ?? null))]);
  return rows;
}

/** One line per data plane under the table: what is left unexplained, or why there is no share. */
function breakdownNote(g: SummaryGroup): string | null {
  const b = g.breakdown;
  if (b === null) return null;
  const u = g.breakdownUncertainty ?? null;
  if (u !== null && u.explainedShare === null) {
    return `${groupLabel(g)}: extra CPU ${fmtInterval(u.extraCpuUsPerRequest, u.extraCpuIntervalUs)} µs/request holds 0 in its 95% interval: explained share n/a (within noise)`;
  }
  if (u === null && b.extraCpuUsPerRequest <= 0) {
    return `${groupLabel(g)}: no extra CPU over baseline (${b.extraCpuUsPerRequest.toFixed(1)} µs/request): no share to explain`;
  }
  const share = u?.explainedShare ?? b.explainedShare;
  const extra = u?.extraCpuUsPerRequest ?? b.extraCpuUsPerRequest;
  return `${groupLabel(g)}: unexplained ${(100 * (1 - Math.min(1, Math.max(0, share)))).toFixed(0)}% of ${extra.toFixed(1)} µs extra CPU/request`;
}

export function formatSummaryText(s: SummaryRecord): string {
  const nothing = nothingMeasuredLine(s);
  if (nothing !== null) return `${['', nothing, ...s.dataplanesSkipped.map((sk) => `skipped ${sk.dataplane}: ${sk.reason}`)].join('\n')}\n`;
  const lines: string[] = [''];
  const headline: string[][] = [['data plane', 'placement', 'load', 'qps', 'p50', 'p99', '+p50 vs baseline', '+p99 vs baseline', 'CPU µs/req', 'conns/req', 'errors']];
  for (const g of s.groups) {
    // Signed with U+2212 minus (as the markdown summary's added columns and every other signed figure here), each bound too.
    const added = (us: Spread | null, pct: Spread | null): string => (us === null || pct === null ? '—' : `${withSpread(us, formatSignedUs)} (${formatSigned(pct.median, 0, '%')})`);
    headline.push([
      groupLabel(g), g.placement, loadLabel(g), withSpread(g.actualQps, (n) => n.toFixed(0)),
      measuredText(g.latencyP50Us, g.latencyLeftOut, g.repetitions, formatUs), measuredText(g.latencyP99Us, g.latencyLeftOut, g.repetitions, formatUs),
      added(g.latencyAddedP50Us, g.latencyAddedP50Pct), added(g.latencyAddedP99Us, g.latencyAddedP99Pct),
      measuredText(g.cpuUsPerRequest, g.cpuLeftOut, g.repetitions, (n) => n.toFixed(1)), g.connectionsOnPath === null ? '—' : String(g.connectionsOnPath),
      withSpread(g.errors, (n) => n.toFixed(0)),
    ]);
  }
  lines.push(...table(headline));
  if (s.groups.some((g) => g.latencyP50Us?.interval !== undefined)) lines.push(intervalLegend);

  lines.push('', 'resources per component (CPU µs/request, peak RSS; median of repetitions)');
  for (const g of s.groups) {
    const parts = Object.entries(g.cpuUsPerRequestByComponent).filter(([name]) => name !== ebpfComponentName).map(([name, cpu]) => {
      const rss = g.memoryRssBytesPeakByComponent[name];
      return `${name} ${cpu.toFixed(1)} µs${rss === undefined ? '' : ` ${fmtMiB(rss)}`}`;
    });
    const ebpfReason = g.ebpfRunTimeUnavailableReason ?? null;
    if (g.ebpfRunTimeUsPerRequest !== null || g.ebpfMapMemoryBytes !== null || ebpfReason !== null) {
      // "none: …" (bpfCost: the programs never ran) is a measured nothing, not a failure to measure.
      const runTime = g.ebpfRunTimeUsPerRequest !== null ? `${withSpread(g.ebpfRunTimeUsPerRequest, (n) => n.toFixed(2))} µs`
        : ebpfReason?.startsWith('none: ') === true ? `run time none (${ebpfReason.slice('none: '.length)})` : `run time not measured (${ebpfReason ?? 'no requests'})`;
      parts.push(`${ebpfComponentName}: programs ${runTime} (inside the hosts' CPU), maps ${g.ebpfMapMemoryBytes === null ? 'n/a' : fmtMiB(g.ebpfMapMemoryBytes)}`);
    }
    const lg = g.loadGeneratorCpuUsPerRequest;
    if (lg !== null && lg !== undefined) parts.push(`load-generator ${withSpread(lg, (n) => n.toFixed(1))} µs user (not in CPU µs/req)`);
    lines.push(`  ${groupLabel(g)} ${loadLabel(g)}: ${parts.join(', ') || 'no cgroup samples'}`);
  }
  lines.push(...perturbationLines(s.groups));
  lines.push(...noiseLines(s.groups));
  lines.push(...repetitionVerdictLines(s.groups), ...searchSummaryLines(s.searches));

  const withBreakdown = s.groups.filter((g) => g.breakdown !== null);
  if (withBreakdown.length > 0) {
    lines.push('', 'overhead over baseline at the same load point: extra CPU µs/request by category, mean of repetitions [95% interval]');
    lines.push(...table(breakdownRows(withBreakdown)));
    lines.push("  * instrumentation: meshbench's own probes (BPF program frames and the tracepoint dispatch under them); shown, never part of the mesh's extra");
    for (const g of withBreakdown) {
      const line = breakdownNote(g);
      if (line !== null) lines.push(`  ${line}`);
    }
    const first = withBreakdown[0];
    if (first?.breakdown !== null && first?.breakdown !== undefined) lines.push(`  method: ${first.breakdown.method}${first.breakdownUncertainty === undefined || first.breakdownUncertainty === null ? '' : `; intervals: ${first.breakdownUncertainty.method}`}`);
  }
  const leftOut = breakdownLeftOutLines(s.groups);
  if (leftOut.length > 0) lines.push(...(withBreakdown.length > 0 ? [] : ['', 'overhead over baseline at the same load point:']), ...leftOut.map((l) => `  ${l}`));
  if (s.calibration !== undefined && s.calibration.length > 0) {
    lines.push('', 'calibration: known work injected by the echo server against what the breakdown found (each control vs the plain baseline)');
    lines.push(...table(calibrationRows(s.calibration)));
    for (const v of s.calibration) lines.push(`  ${v.control}: ${v.verdict}: ${v.why}`);
    lines.push(`  bar: ${calibrationBarText}`);
  }
  if (s.echoControlPath !== undefined) lines.push('', `echo server's calibration controls: ${s.echoControlPath}`);
  for (const sk of s.dataplanesSkipped) lines.push(`skipped ${sk.dataplane}: ${sk.reason}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Pure: per group whose breakdown left repetitions out (`breakdownLeftOut`: a component's CPU per request not
 * measured on either side), one line naming how many and why, or that the group has no breakdown at all.
 */
export function breakdownLeftOutLines(groups: readonly SummaryGroup[]): string[] {
  return groups.flatMap((g) => {
    const l = g.breakdownLeftOut;
    if (l === undefined) return [];
    const n = `${l.repetitions} repetition${l.repetitions === 1 ? '' : 's'}`;
    return [g.breakdown === null
      ? `${groupLabel(g)} ${loadLabel(g)}: no breakdown: ${n} left out (${l.reason})`
      : `${groupLabel(g)} ${loadLabel(g)}: the breakdown leaves out ${n} (${l.reason})`];
  });
}

/**
 * Pure: one line when the run has no figure at all (no step finished, no search probe: Ctrl-C during the first
 * step, or every data plane skipped), in place of tables with no rows; null when something was measured.
 */
export function nothingMeasuredLine(s: Pick<SummaryRecord, 'status' | 'groups' | 'searches'>): string | null {
  if (s.groups.length > 0 || (s.searches ?? []).some((x) => x.probes.length > 0)) return null;
  return s.status === 'partial' ? 'nothing was measured: the run was interrupted before its first step finished' : 'nothing was measured: no step finished';
}

const signedPct = (v: number | null): string => (v === null ? '—' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}%`);

/** The perturbation table: what the probes, stack sampling and bpf_stats cost each data plane (instrumented vs clean). */
export function perturbationLines(groups: readonly SummaryGroup[]): string[] {
  const withP = groups.filter((g) => g.perturbation !== null && g.perturbation !== undefined);
  if (withP.length === 0) return [];
  const rows: string[][] = [['data plane', 'load', 'reps clean/instr', 'p50 clean→instr', 'p99 clean→instr', 'CPU µs/req clean→instr']];
  for (const g of withP) {
    const p = g.perturbation;
    if (p === null || p === undefined) continue;
    const us = (f: typeof p.latencyP50Us): string => `${perturbed(f.clean, formatUs)}→${perturbed(f.instrumented, formatUs)} (${signedPct(f.deltaPct)})`;
    const cpu = (v: number | null): string => perturbed(v, (n) => n.toFixed(1));
    rows.push([groupLabel(g), loadLabel(g), `${p.cleanRepetitions}/${p.instrumentedRepetitions}`, us(p.latencyP50Us), us(p.latencyP99Us),
      `${cpu(p.cpuUsPerRequest.clean)}→${cpu(p.cpuUsPerRequest.instrumented)} (${signedPct(p.cpuUsPerRequest.deltaPct)})`]);
  }
  return ['', 'perturbation: instrumented repetitions (probes, stacks, bpf_stats) against clean ones (headline figures are clean)', ...table(rows)];
}

/** Repetitions measured on a noisy machine, named with why. */
export function noiseLines(groups: readonly SummaryGroup[]): string[] {
  const noisy = groups.flatMap((g) => g.noisySteps ?? []);
  if (noisy.length === 0) return [];
  return ['', `noisy repetitions (${noisy.length}): their figures include other work on the machine`, ...noisy.map((n) => `  ⚠ ${n.id}: ${n.flags.join('; ')}`)];
}
