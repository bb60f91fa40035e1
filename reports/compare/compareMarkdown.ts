import { formatSigned, mdCell } from '../../harness/results/formatUnits';
import { metricUnits } from './gateMetrics';
import type { CompareRow, CompareVerdict, RowVerdict } from './compareRuns';

const mark: Record<RowVerdict, string> = { regression: '✗ regression', 'not significant': '⚠ over threshold, not significant', improved: '✓ improved', pass: '✓ pass' };

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function identity(v: CompareVerdict['base']): string {
  return `\`${v.runId}\`${v.gitCommit === null ? '' : ` (${v.gitCommit.slice(0, 12)})`}`;
}

/** The PR comment: headline verdict, the test used, one row per data plane × load point × gated metric. */
export function compareMarkdown(v: CompareVerdict, o: { onlyFlagged?: boolean } = {}): string {
  const regressions = v.rows.filter((r) => r.verdict === 'regression');
  const lines = [
    `### meshbench compare: ${v.verdict === 'regression' ? `✗ regression (${regressions.length} of ${v.rows.length} checks)` : `✓ no regression (${v.rows.length} checks)`}`,
    '',
    `base ${identity(v.base)} → head ${identity(v.head)} · profile \`${v.head.profile}\` · gates ${Object.entries(v.gates).map(([m, g]) => `${m} ${g}`).join(', ')}`,
    '',
    `Test: ${v.test}, α = ${v.alpha}. A check fails when the median over repetitions moves past the gate in the worse direction and the test says the shift is not noise.`,
    '',
    '| data plane | load | metric | base | head | change | gate | p | verdict |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const shown: CompareRow[] = o.onlyFlagged === true ? v.rows.filter((r) => r.verdict !== 'pass') : [...v.rows];
  for (const r of shown) {
    const unit = metricUnits[r.metric];
    lines.push(`| ${r.dataplane} | ${mdCell(r.load)}${r.placement === 'same-node' ? ', same node' : ''} | ${r.metric} | ${fmt(r.baseMedian)} ${unit} | ${fmt(r.headMedian)} ${unit} | ${formatSigned(r.changePct, 1, '%')} | ${r.gate} | ${r.pValue === null ? 'n/a' : r.pValue < 0.001 ? '<0.001' : r.pValue.toFixed(3)} | ${mark[r.verdict]} |`);
  }
  if (shown.length < v.rows.length) lines.push('', `${v.rows.length - shown.length} passing checks not shown.`);
  if (v.notes.length > 0) lines.push('', ...v.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
