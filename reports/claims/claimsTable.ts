import { mdCell } from '../../harness/results/formatUnits';
import { bandWords, claimNumber, verdictDigits, type ClaimRow } from './claimsEvaluation';

/*
 * The claims table for people (pure): plain text for `meshbench claims`, Markdown for the report (whose HTML
 * renders the same Markdown).
 */

/**
 * "31% [24, 40]" or "3 connections"; "null (not measured)" when the run cannot measure the figure. Decimals as
 * verdictDigits gives them: enough that each printed number sits on the side of the band's edges it really does.
 */
export function claimValueText(r: ClaimRow): string {
  if (r.value === null) return 'null (not measured)';
  const d = r.unit === '%' ? verdictDigits([r.value, r.interval?.low, r.interval?.high], r.band) : 0;
  const unit = r.unit === '%' ? '%' : '';
  const n = (v: number): string => claimNumber(v, d);
  const iv = r.interval === null || r.interval.low === r.interval.high ? '' : ` [${n(r.interval.low)}, ${n(r.interval.high)}]`;
  return `${n(r.value)}${unit}${iv}${r.unit === 'connections' ? ` connection${r.value === 1 ? '' : 's'}` : ''}`;
}

function bandText(r: ClaimRow): string {
  if (r.unit === '%') return bandWords(r.band);
  return r.band.low === r.band.high ? `${r.band.low}` : `${r.band.low}–${r.band.high}`;
}

const header = ['claim', 'band', 'measured [95%]', 'absolute', 'at', 'verdict'];

function cells(r: ClaimRow): string[] {
  return [r.claim, bandText(r), claimValueText(r), r.absolute ?? '—', r.point ?? '—', r.verdict];
}

/** Columns padded to their widest cell; each row followed by its "why" line. */
export function claimsText(rows: readonly ClaimRow[]): string {
  const all = [header, ...rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const out = [line(header)];
  for (const r of rows) out.push(line(cells(r)), `    why: ${r.why}`);
  const count = (v: ClaimRow['verdict']): number => rows.filter((r) => r.verdict === v).length;
  out.push('', `${rows.length} claims: ${count('confirmed')} confirmed, ${count('refuted')} refuted, ${count('inconclusive')} inconclusive (inconclusive: the 95% interval straddles the band's edge, the figure has no interval (one repetition, or one instrumented repetition for a share), or it is null)`);
  return `${out.join('\n')}\n`;
}

/** The report's section: one table row per claim, the why in its own column. */
export function claimsSection(rows: readonly ClaimRow[]): string[] {
  if (rows.length === 0) return [];
  return ['## The talk\'s claims, answered', '',
    'Each claim of the KubeCon China 2024 Kmesh talk against this run: the measured figure with its 95 % interval, confirmed when the interval lies inside the claim\'s band, refuted when it lies outside, inconclusive when it straddles an edge, has no interval (one repetition, or one instrumented repetition for a share) or the run cannot measure the figure (null).', '',
    `| ${[...header, 'why'].join(' | ')} |`, `| ${[...header, 'why'].map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${[...cells(r), r.why].map(mdCell).join(' | ')} |`), ''];
}
