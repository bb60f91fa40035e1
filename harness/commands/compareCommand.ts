import fs from 'node:fs';
import type { Command } from 'commander';
import { compareMarkdown } from '../../reports/compare/compareMarkdown';
import { compareRuns } from '../../reports/compare/compareRuns';
import { loadRunForReport } from '../../reports/writeReport';
import { BadInputError, ExitCode } from '../errors';

interface CompareFlags {
  force?: boolean;
  json?: string;
  markdown?: string;
  alpha: string;
  onlyFlagged?: boolean;
  allowMissing?: boolean;
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare two results folders metric by metric against the profile\'s gates; exit 0 pass, 1 regression, 2 bad input (incl. a data plane measured on one side only)')
    .argument('<base>', 'results folder of the reference (e.g. the main branch)')
    .argument('<head>', 'results folder of the change')
    .option('--force', 'compare even runs of different profiles or machines (the output says so)')
    .option('--json <file>', 'also write the verdict as JSON')
    .option('--markdown <file>', 'also write the Markdown table (for a PR comment)')
    .option('--alpha <p>', 'significance level of the test', '0.05')
    .option('--only-flagged', 'in the table, leave out checks that pass')
    .option('--allow-missing', 'compare what both runs measured when a data plane or load point is in one run only (else exit 2)')
    .action((baseDir: string, headDir: string, flags: CompareFlags) => {
      const alpha = Number(flags.alpha);
      if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1) throw new BadInputError(`--alpha ${flags.alpha}: expected a number between 0 and 1`);
      const verdict = compareRuns(loadRunForReport(baseDir), loadRunForReport(headDir), { force: flags.force === true, alpha, allowMissing: flags.allowMissing === true });
      const md = compareMarkdown(verdict, { onlyFlagged: flags.onlyFlagged === true });
      if (flags.json !== undefined) fs.writeFileSync(flags.json, `${JSON.stringify(verdict, null, 2)}\n`);
      if (flags.markdown !== undefined) fs.writeFileSync(flags.markdown, md);
      process.stdout.write(md);
      const same = verdict.base.runId === verdict.head.runId ? ' — base and head are the same run, so nothing was compared' : '';
      const flagged = verdict.rows.filter((r) => r.verdict === 'regression');
      const unmeasured = verdict.rows.filter((r) => r.verdict === 'not measured');
      process.stderr.write(verdict.verdict === 'regression'
        ? `meshbench compare: regression in ${flagged.length} of ${verdict.rows.length} checks (${[...new Set(flagged.map((r) => `${r.dataplane} ${r.metric}`))].join(', ')})\n`
        : `meshbench compare: no regression (${verdict.rows.length} checks)${unmeasured.length === 0 ? '' : `; ${unmeasured.length} not measured (${[...new Set(unmeasured.map((r) => `${r.dataplane} ${r.metric}`))].join(', ')})`}${same}\n`);
      process.exitCode = verdict.verdict === 'regression' ? ExitCode.failure : ExitCode.ok;
    });
}
