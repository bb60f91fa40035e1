import { formatSigned, mdCell } from '../../harness/results/formatUnits';
import { metricUnits } from './gateMetrics';
import { detectableChangePower, type CompareRow, type CompareVerdict, type RowVerdict } from './compareRuns';

const mark: Record<RowVerdict, string> = { regression: '✗ regression', 'not significant': '⚠ over threshold, not significant', improved: '✓ improved', pass: '✓ pass', 'not measured': '⚠ not measured' };

function fmt(v: number | null): string {
  if (v === null) return '—';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function identity(v: CompareVerdict['base']): string {
  return `\`${v.runId}\`${v.gitCommit === null ? '' : ` (${v.gitCommit.slice(0, 12)})`}`;
}

function change(r: CompareRow): string {
  if (r.changePct === null) return '—';
  const ci = r.changeInterval;
  return `${formatSigned(r.changePct, 1, '%')}${ci === null ? '' : ` [${formatSigned(ci.low, 1)}–${formatSigned(ci.high, 1, '%')}]`}`;
}

function pCell(p: number | null): string {
  return p === null ? 'n/a' : p < 0.001 ? '<0.001' : p.toFixed(3);
}

/** The headline: regressions first; checks that could not be measured are named, never folded into "no regression". */
function headline(v: CompareVerdict): string {
  const regressions = v.rows.filter((r) => r.verdict === 'regression').length;
  const unmeasured = v.rows.filter((r) => r.verdict === 'not measured').length;
  const measured = v.rows.length - unmeasured;
  const main = v.verdict === 'regression' ? `✗ regression (${regressions} of ${v.rows.length} checks)` : `✓ no regression (${measured} checks)`;
  return unmeasured === 0 ? main : `${main} · ⚠ not measured (${unmeasured} of ${v.rows.length} checks)`;
}

/**
 * The PR comment: headline verdict, the test used, one row per data plane × load point × gated metric
 * (change with its 95 % interval, p, Cliff's δ), then per metric the smallest regression the runs could
 * have caught, and the notes.
 */
export function compareMarkdown(v: CompareVerdict, o: { onlyFlagged?: boolean } = {}): string {
  const lines = [
    `### meshbench compare: ${headline(v)}`,
    '',
    `base ${identity(v.base)} → head ${identity(v.head)} · profile \`${v.head.profile}\` · gates ${Object.entries(v.gates).map(([m, g]) => `${m} ${g}`).join(', ')}`,
    '',
    `Test: ${v.test}, α = ${v.alpha}. A check fails when the median over repetitions moves past the gate in the worse direction and the test says the shift is not noise. Change: head median against base median, [95 % percentile-bootstrap interval]. δ: Cliff's δ of head over base (+1: every head repetition above every base one).`,
    '',
    '| data plane | load | metric | base | head | change [95 % CI] | gate | p | δ | verdict |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const shown: CompareRow[] = o.onlyFlagged === true ? v.rows.filter((r) => r.verdict !== 'pass') : [...v.rows];
  for (const r of shown) {
    const unit = metricUnits[r.metric];
    const effect = r.effect === null ? '—' : `${formatSigned(r.effect.delta, 2)} (${r.effect.magnitude})`;
    lines.push(`| ${r.dataplane} | ${mdCell(r.load)}${r.placement === 'same-node' ? ', same node' : ''} | ${r.metric} | ${fmt(r.baseMedian)} ${unit} | ${fmt(r.headMedian)} ${unit} | ${change(r)} | ${r.gate} | ${pCell(r.pValue)} | ${effect} | ${mark[r.verdict]} |`);
  }
  if (shown.length < v.rows.length) lines.push('', `${v.rows.length - shown.length} passing checks not shown.`);
  // Results written before the minimum detectable change existed have no such field.
  const detectable = v.detectable ?? [];
  if (detectable.length > 0) {
    lines.push('', `**Smallest regression these runs would catch** (${Math.round(detectableChangePower * 100)} % of the time at α = ${v.alpha}, given the noise measured; gate allowance included):`);
    for (const d of detectable) {
      const signed = (pct: number): string => formatSigned(d.worse === 'increase' ? pct : -pct, 1, '%');
      const worst = d.worstPct === null ? 'none: too few repetitions for the test, the threshold alone decides' : `${signed(d.worstPct)} at worst (${mdCell(d.worstAt ?? '')})${d.medianPct === null || d.checks < 2 ? '' : `, median ${signed(d.medianPct)}`}`;
      lines.push(`- ${d.metric}: ${worst} over ${d.checks} check${d.checks === 1 ? '' : 's'}${d.thresholdOnly > 0 && d.worstPct !== null ? `; ${d.thresholdOnly} decided by the threshold alone` : ''}`);
    }
  }
  if (v.notes.length > 0) lines.push('', ...v.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}
