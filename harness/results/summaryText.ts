import { ebpfComponentName, type BreakdownCategory } from './resultTypes';
import type { Spread, SummaryGroup, SummaryRecord } from './summaryTypes';
import { formatUs } from './formatUnits';

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

/** What the brackets mean, printed under the headline table when any figure has an interval. */
export const intervalLegend = '[low–high]: 95 % percentile-bootstrap interval of the median over repetitions (2,000 seeded resamples); with 3 repetitions it is the min–max and covers the true median ~75 % of the time, from 5 repetitions on ~93 %';

function loadLabel(g: SummaryGroup): string {
  const p = g.loadPoint;
  return `${p.qps === 0 ? 'max' : `${p.qps} qps`} c${p.connections}${p.payloadBytes > 0 ? ` ${p.payloadBytes}B` : ''}${p.keepAlive ? '' : ' new-conn'}`;
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

const shownCategories: readonly BreakdownCategory[] = ['copying', 'connections', 'scheduling', 'syscalls', 'network-stack', 'proxy-userspace', 'application', 'unexplained'];

export function formatSummaryText(s: SummaryRecord): string {
  const lines: string[] = [''];
  const headline: string[][] = [['data plane', 'placement', 'load', 'qps', 'p50', 'p99', '+p50 vs baseline', '+p99 vs baseline', 'CPU µs/req', 'conns/req', 'errors']];
  for (const g of s.groups) {
    const added = (us: Spread | null, pct: Spread | null): string => (us === null || pct === null ? '—' : `${us.median >= 0 ? '+' : ''}${withSpread(us, formatUs)} (${pct.median >= 0 ? '+' : ''}${pct.median.toFixed(0)}%)`);
    headline.push([
      g.dataplane, g.placement, loadLabel(g), withSpread(g.actualQps, (n) => n.toFixed(0)),
      withSpread(g.latencyP50Us, formatUs), withSpread(g.latencyP99Us, formatUs),
      added(g.latencyAddedP50Us, g.latencyAddedP50Pct), added(g.latencyAddedP99Us, g.latencyAddedP99Pct),
      withSpread(g.cpuUsPerRequest, (n) => n.toFixed(1)), g.connectionsOnPath === null ? '—' : String(g.connectionsOnPath),
      withSpread(g.errors, (n) => n.toFixed(0)),
    ]);
  }
  lines.push(...table(headline));
  if (s.groups.some((g) => g.latencyP50Us.interval !== undefined)) lines.push(intervalLegend);

  lines.push('', 'resources per component (CPU µs/request, peak RSS; median of repetitions)');
  for (const g of s.groups) {
    const parts = Object.entries(g.cpuUsPerRequestByComponent).filter(([name]) => name !== ebpfComponentName).map(([name, cpu]) => {
      const rss = g.memoryRssBytesPeakByComponent[name];
      return `${name} ${cpu.toFixed(1)} µs${rss === undefined ? '' : ` ${fmtMiB(rss)}`}`;
    });
    if (g.ebpfRunTimeUsPerRequest !== null || g.ebpfMapMemoryBytes !== null) {
      parts.push(`${ebpfComponentName}: programs ${g.ebpfRunTimeUsPerRequest === null ? 'run time n/a' : `${withSpread(g.ebpfRunTimeUsPerRequest, (n) => n.toFixed(2))} µs`} (inside the hosts' CPU), maps ${g.ebpfMapMemoryBytes === null ? 'n/a' : fmtMiB(g.ebpfMapMemoryBytes)}`);
    }
    lines.push(`  ${g.dataplane} ${loadLabel(g)}: ${parts.join(', ') || 'no cgroup samples'}`);
  }

  const withBreakdown = s.groups.filter((g) => g.breakdown !== null);
  if (withBreakdown.length > 0) {
    lines.push('', 'overhead over baseline at the same load point, extra CPU µs/request by category (median repetition)');
    const rows: string[][] = [['data plane', 'load', 'extra µs/req', ...shownCategories, 'explained', 'bytes/req', 'conns/req', 'ctx sw/req']];
    for (const g of withBreakdown) {
      const b = g.breakdown;
      if (b === null) continue;
      const opt = (v: number | null): string => (v === null ? '—' : v.toFixed(1));
      rows.push([
        g.dataplane, loadLabel(g), g.extraCpuUsPerRequest === null ? b.extraCpuUsPerRequest.toFixed(1) : withSpread(g.extraCpuUsPerRequest, (n) => n.toFixed(1)),
        ...shownCategories.map((c) => b.byCategoryUs[c].toFixed(1)),
        // A share of nothing (no extra CPU) means nothing: shown as a dash, explained in the line below.
        b.extraCpuUsPerRequest <= 0 ? '—' : g.breakdownExplainedShare === null ? `${(b.explainedShare * 100).toFixed(0)}%` : withSpread(g.breakdownExplainedShare, (n) => `${(n * 100).toFixed(0)}%`),
        opt(b.extraBytesCopiedPerRequest), opt(b.extraConnectionsPerRequest), opt(b.extraContextSwitchesPerRequest),
      ]);
    }
    lines.push(...table(rows));
    for (const g of withBreakdown) {
      const b = g.breakdown;
      if (b === null) continue;
      if (b.extraCpuUsPerRequest <= 0) {
        lines.push(`  ${g.dataplane}: no extra CPU over baseline (${b.extraCpuUsPerRequest.toFixed(1)} µs/request; unexplained ${b.byCategoryUs.unexplained.toFixed(1)} µs): no share to explain`);
        continue;
      }
      const unexplainedShare = b.byCategoryUs.unexplained / b.extraCpuUsPerRequest;
      lines.push(`  ${g.dataplane}: unexplained ${(unexplainedShare * 100).toFixed(0)}% of ${b.extraCpuUsPerRequest.toFixed(1)} µs extra CPU/request`);
    }
    const method = withBreakdown[0]?.breakdown?.method;
    if (method !== undefined) lines.push(`  method: ${method}`);
  }
  for (const sk of s.dataplanesSkipped) lines.push(`skipped ${sk.dataplane}: ${sk.reason}`);
  return `${lines.join('\n')}\n`;
}
