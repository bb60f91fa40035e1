import { stringify } from 'csv-stringify/sync';
import { orderDataPlanes } from '../charts/chartTypes';
import { metricUnits, type GateMetric } from '../compare/gateMetrics';
import { mdCell } from '../../harness/results/formatUnits';
import { changePointSettings, type HistoryChangePoint } from './changePoints';
import type { HistoryPoint, RunGate } from './historyModel';

/** The change points of every gated metric: one line each, new ones first marked; what the nightly job summary shows. */
export function changePointsMarkdown(changePoints: readonly HistoryChangePoint[], metrics: readonly GateMetric[]): string[] {
  const lines = ['## Change points', '', `E-divisive means (Matteson & James 2014) over each data plane × load point series of ${metrics.join(', ')}: permutation test at α = ${changePointSettings.alpha} (${changePointSettings.permutations} permutations, seeded), at least ${changePointSettings.minSize} runs on each side. **new**: found with the newest run and not without it.`, ''];
  if (changePoints.length === 0) return [...lines, 'None found.'];
  lines.push('| metric | data plane | load | first run of the new level | commit | before | after | change | p | |', '| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const c of changePoints) {
    const v = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
    const mark = `${c.direction === 'worse' ? '✗ worse' : '✓ better'}${c.isNew ? ' · **new**' : ''}`;
    lines.push(`| ${c.metric} | ${c.dataplane} | ${mdCell(c.load)} | \`${c.runId}\` | ${c.gitCommit === null ? '—' : `\`${c.gitCommit.slice(0, 10)}\``} | ${v(c.beforeMedian)} ${metricUnits[c.metric]} | ${v(c.afterMedian)} ${metricUnits[c.metric]} | ${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}% | ${c.pValue.toFixed(3)} | ${mark} |`);
  }
  return lines;
}

/** One row per run, one column per data plane × load point; flagged values in bold with a ✗. */
export function historyMarkdown(points: readonly HistoryPoint[], gates: readonly RunGate[], metric: GateMetric, chartFile: string | null, changePoints: { readonly found: readonly HistoryChangePoint[]; readonly metrics: readonly GateMetric[] } | null = null): string {
  const columns = [...new Set(points.map((p) => `${p.dataplane}|${p.load}`))];
  const order = orderDataPlanes(points.map((p) => p.dataplane));
  columns.sort((a, b) => a.split('|')[1]!.localeCompare(b.split('|')[1]!) || order.indexOf(a.split('|')[0]!) - order.indexOf(b.split('|')[0]!));
  const lines = [`# meshbench history: ${metric} (${metricUnits[metric]})`, '', `${gates.length} runs, oldest first; values are medians over repetitions. ✗ marks what the regression gate flagged.`, ''];
  if (chartFile !== null) lines.push(`![${metric} across runs](${chartFile})`, '');
  lines.push(`| run | started | commit | gate | ${columns.map((c) => mdCell(c.replace('|', ' @ '))).join(' | ')} |`, `| --- | --- | --- | --- | ${columns.map(() => '---:').join(' | ')} |`);
  for (const g of gates) {
    const cells = columns.map((c) => {
      const p = points.find((x) => x.runId === g.runId && `${x.dataplane}|${x.load}` === c);
      if (p === undefined) return '—';
      const v = p.value >= 100 ? p.value.toFixed(0) : p.value.toFixed(1);
      return p.flagged ? `**${v}** ✗` : v;
    });
    const gate = g.verdict === 'regression' ? `✗ vs \`${g.versus ?? '?'}\`` : g.verdict === 'pass' ? `✓ vs \`${g.versus ?? '?'}\`` : `— (${g.reason ?? 'not compared'})`;
    const commit = points.find((p) => p.runId === g.runId)?.gitCommit;
    lines.push(`| \`${g.runId}\` | ${g.startedAt.slice(0, 16).replace('T', ' ')} | ${commit === null || commit === undefined ? '—' : `\`${commit.slice(0, 10)}\``} | ${mdCell(gate)} | ${cells.join(' | ')} |`);
  }
  const flagged = gates.filter((g) => g.verdict === 'regression');
  if (flagged.length > 0) lines.push('', '## Flagged runs', '', ...flagged.map((g) => `- \`${g.runId}\` vs \`${g.versus ?? '?'}\`: ${g.flaggedChecks.join('; ')}`));
  if (changePoints !== null) lines.push('', ...changePointsMarkdown(changePoints.found, changePoints.metrics));
  return `${lines.join('\n')}\n`;
}

export function historyCsv(points: readonly HistoryPoint[]): string {
  return stringify(points.map((p) => [p.runId, p.startedAt, p.gitCommit ?? '', p.dataplane, p.load, p.value, p.repetitions, p.flagged ? 'true' : 'false']), {
    header: true, columns: ['runId', 'startedAt', 'gitCommit', 'dataplane', 'load', 'value', 'repetitions', 'flagged'],
  });
}
