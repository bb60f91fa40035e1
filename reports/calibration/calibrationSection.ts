import type { CalibrationVerdict } from '../../harness/attribution/calibrationVerdict';
import { calibrationBarText, calibrationRows } from '../../harness/results/calibrationText';
import { mdCell } from '../../harness/results/formatUnits';

/**
 * The report's calibration section (Markdown; the HTML report renders the same Markdown): injected cost
 * against what the breakdown found, per control, with the verdict and its reason. Empty without variants.
 */
export function calibrationSection(verdicts: readonly CalibrationVerdict[] | undefined): string[] {
  if (verdicts === undefined || verdicts.length === 0) return [];
  const rows = calibrationRows(verdicts);
  const header = rows[0] ?? [];
  const lines = ['## Calibration: injected cost against what the breakdown found', '',
    `Each control is the baseline again with the echo server doing known work per request, compared with the plain baseline of the same repetition. The bar: ${calibrationBarText}.`, '',
    `| ${header.map(mdCell).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows.slice(1)) lines.push(`| ${r.map(mdCell).join(' | ')} |`);
  lines.push('', ...verdicts.map((v) => `- \`${mdCell(v.control)}\` (${v.verdict}): ${mdCell(v.why)}`), '');
  return lines;
}
