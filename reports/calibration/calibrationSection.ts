import type { CalibrationVerdict } from '../../harness/attribution/calibrationVerdict';
import { calibrationBarText, calibrationRows } from '../../harness/results/calibrationText';
import { mdCell } from '../../harness/results/formatUnits';

/** Why a copies variant's bytes per request differ between this table and the breakdown's `bytes/req`, by exactly 2×. */
export const copiesNote = 'Bytes copied here are receive copies (what recvmsg returned, every socket family): `copies=N` injects N × the reply. The overhead breakdown\'s `bytes/req` (and `bytesCopiedPerRequest` in steps.csv) counts every byte where it is sent and where it is received, over TCP and Unix sockets, so the same variant shows there as 2 × N × the reply.';

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
  if (verdicts.some((v) => v.kind === 'copies')) lines.push(copiesNote, '');
  return lines;
}
