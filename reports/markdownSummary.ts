import { breakdownCategories, type RunRecord } from '../harness/results/resultTypes';
import type { Spread, SummaryGroup } from '../harness/results/summaryTypes';
import type { Chart } from './charts/chartTypes';
import { orderDataPlanes } from './charts/chartTypes';
import { formatSigned, formatSignedUs, formatUs, mdCell } from '../harness/results/formatUnits';
import { loadLabel, pointLabel } from './stepRows';
import { breakdownLeftOutLines, explainedShareText, measuredText, perturbed } from '../harness/results/summaryText';
import { groupLabel } from '../harness/results/calibrationText';
import { calibrationSection } from './calibration/calibrationSection';
import type { CalibrationVerdict } from '../harness/attribution/calibrationVerdict';
import type { RateSearchSummary } from '../harness/results/searchSummary';
import { repetitionSection, searchSection } from './searchMarkdown';

export interface MarkdownInputs {
  readonly run: RunRecord;
  readonly groups: readonly SummaryGroup[];
  readonly charts: readonly Chart[];
  /** Relative paths of the chart SVGs, by chart id. */
  readonly chartFiles: Readonly<Record<string, string>>;
  readonly flameGraphFiles: ReadonlyArray<{ title: string; file: string }>;
  readonly probeNote: string | null;
  /** The summary's calibration verdicts (profile `calibration:`), when the run had variants. */
  readonly calibration?: readonly CalibrationVerdict[];
  /** Further sections (Markdown lines) placed after the overhead breakdown, e.g. the talk's claims. */
  readonly extraSections?: readonly string[];
  /** The run's rate searches (`load.search`), when it had any. */
  readonly searches?: readonly RateSearchSummary[];
}

/** `value [low–high]`: the median with its 95 % bootstrap interval (min–max for a figure without one). */
const withSpread = (s: Spread, f: (v: number) => string): string => (s.interval !== undefined ? `${f(s.median)} [${f(s.interval.low)}–${f(s.interval.high)}]` : s.values.length > 1 ? `${f(s.median)} [${f(s.min)}–${f(s.max)}]` : f(s.median));

function sortGroups(groups: readonly SummaryGroup[]): SummaryGroup[] {
  const order = orderDataPlanes(groups.map((g) => g.dataplane));
  return [...groups].sort((a, b) => a.loadPoint.connections - b.loadPoint.connections || a.loadPoint.qps - b.loadPoint.qps || a.placement.localeCompare(b.placement) || order.indexOf(a.dataplane) - order.indexOf(b.dataplane));
}

export function runHeadline(run: RunRecord): string[] {
  const m = run.machine;
  return [
    `- **profile** \`${run.profile.name}\` (${run.profile.file}, sha256 ${run.profile.hash.slice(0, 12)}) · **run** \`${run.runId}\` · **status** ${run.status}${run.statusReason === null ? '' : ` (${run.statusReason})`}`,
    `- **steps** ${run.stepsCompleted}/${run.stepsPlanned} · **started** ${run.startedAt}${run.endedAt === null ? '' : ` · **ended** ${run.endedAt}`}`,
    `- **machine** ${m.hostname}: ${m.cpuModel}, ${m.cpus} CPUs, kernel ${m.kernel}, Node ${m.node}, platform \`${run.profile.resolved.platform}\``,
    `- **versions** ${Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
}

/** The Markdown summary: headline table per load point, the overhead breakdown, and links to the charts. */
export function markdownSummary(i: MarkdownInputs): string {
  const lines: string[] = [`# meshbench report: ${i.run.profile.name}`, '', ...runHeadline(i.run)];
  if (i.probeNote !== null) lines.push(`- **probes** ${i.probeNote}`);
  // Results written before skipped data planes were recorded have no such field.
  for (const s of i.run.dataplanesSkipped ?? []) lines.push(`- **skipped** ${s.dataplane}: ${s.reason}`);
  lines.push('', 'Latency is corrected for coordinated omission; figures are the median over repetitions with its 95 % interval [low–high] when there are several (percentile bootstrap, 2,000 seeded resamples; with 3 repetitions it is the min–max, which covers the true median ~75 % of the time). Added latency compares each repetition with the baseline of the same repetition; its interval is that of the median difference.', '');
  const byPoint = new Map<string, SummaryGroup[]>();
  for (const g of sortGroups(i.groups)) {
    const k = `${loadLabel({ qps: g.loadPoint.qps, connections: g.loadPoint.connections })}, ${g.loadPoint.payloadBytes} B, ${g.placement}${g.loadPoint.keepAlive ? '' : ', new connection per request'}`;
    byPoint.set(k, [...(byPoint.get(k) ?? []), g]);
  }
  for (const [point, groups] of byPoint) {
    const ebpf = groups.some((g) => (g.ebpfRunTimeUsPerRequest ?? null) !== null || (g.ebpfRunTimeUnavailableReason ?? null) !== null);
    lines.push(`## ${point}`, '', `| data plane | achieved QPS | P50 | P99 | P99.9 | P50 added | P99 added | CPU µs/request |${ebpf ? ' eBPF µs/request (inside CPU) |' : ''} connections on path | errors |`, `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${ebpf ? ' ---: |' : ''} ---: | ---: |`);
    for (const g of groups) {
      const reason = g.ebpfRunTimeUnavailableReason ?? null;
      // "none: …" (bpfCost: the programs never ran) is a measured nothing, as in the run summary, not a failure to measure.
      const notMeasured = reason === null ? '—' : reason.startsWith('none: ') ? `none (${reason.slice('none: '.length)})` : `not measured (${reason})`;
      const ebpfCell = !ebpf ? '' : ` ${g.ebpfRunTimeUsPerRequest === null || g.ebpfRunTimeUsPerRequest === undefined ? notMeasured : withSpread(g.ebpfRunTimeUsPerRequest, (v) => v.toFixed(2))} |`;
      const added = (us: Spread | null, pct: Spread | null): string => (us === null || pct === null ? '—' : `${formatSignedUs(us.median)}${us.interval === undefined ? '' : ` [${formatSignedUs(us.interval.low)}–${formatSignedUs(us.interval.high)}]`} (${formatSigned(pct.median, 0, '%')})`);
      lines.push(`| ${groupLabel(g)} | ${withSpread(g.actualQps, (v) => v.toFixed(0))} | ${measuredText(g.latencyP50Us, g.latencyLeftOut, g.repetitions, formatUs)} | ${measuredText(g.latencyP99Us, g.latencyLeftOut, g.repetitions, formatUs)} | ${measuredText(g.latencyP999Us, g.latencyLeftOut, g.repetitions, formatUs)} | ${added(g.latencyAddedP50Us, g.latencyAddedP50Pct)} | ${added(g.latencyAddedP99Us, g.latencyAddedP99Pct)} | ${mdCell(measuredText(g.cpuUsPerRequest, g.cpuLeftOut, g.repetitions, (v) => v.toFixed(1)))} |${ebpfCell} ${g.connectionsOnPath === null ? '—' : String(Math.round(g.connectionsOnPath * 100) / 100)} | ${g.errors.median.toFixed(0)} |`);
    }
    lines.push('');
  }
  const breakdowns = sortGroups(i.groups).filter((g) => g.breakdown !== null);
  if (breakdowns.length > 0) {
    lines.push('## Overhead over baseline (CPU µs per request)', '', `| data plane | load | extra | ${breakdownCategories.join(' | ')} | explained | extra bytes copied/request | extra connections opened/request | extra context switches/request |`, `| --- | --- | ---: | ${breakdownCategories.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`);
    const opt = (v: number | null, d: number): string => (v === null ? '—' : formatSigned(v, d));
    for (const g of breakdowns) {
      const b = g.breakdown;
      if (b === null) continue;
      const u = g.breakdownUncertainty ?? null;
      // With intervals: mean of repetitions and its 95 % interval; without (older summaries): the median repetition.
      const cell = (v: number, iv: { low: number; high: number } | undefined): string => (iv === undefined ? formatSigned(v) : `${formatSigned(v)} [${iv.low.toFixed(1)}, ${iv.high.toFixed(1)}]`);
      const extraCell = u === null ? formatSigned(b.extraCpuUsPerRequest) : cell(u.extraCpuUsPerRequest, u.extraCpuIntervalUs);
      const cats = breakdownCategories.map((c) => (u === null ? formatSigned(b.byCategoryUs[c]) : cell(u.byCategoryUs[c], u.byCategoryIntervalUs[c])));
      lines.push(`| ${groupLabel(g)} | ${pointLabel(g)} | ${extraCell} | ${cats.join(' | ')} | ${explainedShareText(g)} | ${opt(b.extraBytesCopiedPerRequest, 0)} | ${opt(b.extraConnectionsPerRequest, 3)} | ${opt(b.extraContextSwitchesPerRequest, 2)} |`);
    }
    const iv = breakdowns[0]?.breakdownUncertainty;
    lines.push('', `Method: ${breakdowns[0]?.breakdown?.method ?? ''}${iv === undefined || iv === null ? '' : `; intervals: ${iv.method}`}. \`instrumentation\` is meshbench's own probes, shown and left out of the extra. The explained share is given only when the extra CPU lies outside its own 95 % interval.`, '');
  }
  const leftOut = breakdownLeftOutLines(sortGroups(i.groups));
  if (leftOut.length > 0) lines.push(...(breakdowns.length > 0 ? [] : ['## Overhead over baseline (CPU µs per request)', '']), ...leftOut.map((l) => `- ${mdCell(l)}`), '');
  lines.push(...calibrationSection(i.calibration), ...(i.extraSections ?? []));
  lines.push(...perturbationSection(sortGroups(i.groups)), ...noiseSection(i.groups));
  lines.push(...searchSection(i.searches), ...repetitionSection(sortGroups(i.groups)));
  if (i.charts.length > 0) {
    lines.push('## Charts', '');
    for (const c of i.charts) {
      const file = i.chartFiles[c.id];
      if (file !== undefined) lines.push(`### ${mdCell(c.title)}`, '', `![${mdCell(c.title)}](${file})`, '', c.caption, '');
    }
  }
  if (i.flameGraphFiles.length > 0) {
    lines.push('## Flame graphs', '', ...i.flameGraphFiles.map((f) => `- [${mdCell(f.title)}](${f.file})`), '');
  }
  return `${lines.join('\n')}\n`;
}

const pctCell = (v: number | null): string => (v === null ? '—' : formatSigned(v, 1, '%'));

/** What the probes, stack sampling and bpf_stats cost each data plane: instrumented against clean repetitions. */
function perturbationSection(groups: readonly SummaryGroup[]): string[] {
  const withP = groups.filter((g) => g.perturbation !== null && g.perturbation !== undefined);
  if (withP.length === 0) return [];
  const lines = ['## Perturbation (instrumented against clean repetitions)', '',
    'Headline figures come from clean repetitions (no meshbench probe or sampler attached, bpf_stats off); the breakdown, kernel counters and flame graphs from instrumented ones. This is what instrumenting costs each data plane.', '',
    '| data plane | load | repetitions clean / instrumented | P50 clean → instrumented | P99 clean → instrumented | CPU µs/request clean → instrumented |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const g of withP) {
    const p = g.perturbation;
    if (p === null || p === undefined) continue;
    const us = (f: typeof p.latencyP50Us): string => `${perturbed(f.clean, formatUs)} → ${perturbed(f.instrumented, formatUs)} (${pctCell(f.deltaPct)})`;
    const cpu = (v: number | null): string => perturbed(v, (n) => n.toFixed(1));
    lines.push(`| ${groupLabel(g)} | ${pointLabel(g)} | ${p.cleanRepetitions} / ${p.instrumentedRepetitions} | ${us(p.latencyP50Us)} | ${us(p.latencyP99Us)} | ${cpu(p.cpuUsPerRequest.clean)} → ${cpu(p.cpuUsPerRequest.instrumented)} (${pctCell(p.cpuUsPerRequest.deltaPct)}) |`);
  }
  return [...lines, ''];
}

/** Repetitions measured on a noisy machine (CPU steal or other work above the thresholds), flagged. */
function noiseSection(groups: readonly SummaryGroup[]): string[] {
  const noisy = groups.flatMap((g) => g.noisySteps ?? []);
  if (noisy.length === 0) return [];
  return ['## ⚠ Noisy repetitions', '', 'Measured while the machine did other work or the hypervisor stole CPU: their figures include it.', '',
    ...noisy.map((n) => `- \`${mdCell(n.id)}\`: ${mdCell(n.flags.join('; '))}`), ''];
}
