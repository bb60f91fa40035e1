import path from 'node:path';
import type { Command } from 'commander';
import { writeReport } from '../../reports/writeReport';

interface ReportFlags {
  output?: string;
  quiet?: boolean;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write an HTML report, SVG charts, a Markdown summary, a CSV of every step and SMP/fortio exports for a results folder')
    .argument('<results-dir>', 'a folder written by meshbench run')
    .option('-o, --output <dir>', 'where to write the report (default RESULTS_DIR/report)')
    .option('--quiet', 'print only the report path')
    .action(async (dir: string, flags: ReportFlags) => {
      const startMs = performance.now();
      const r = await writeReport(dir, flags.output === undefined ? {} : { outputDir: flags.output });
      const rel = (f: string): string => { const r = path.relative(process.cwd(), f); return r.startsWith('..') ? f : r || '.'; };
      if (flags.quiet !== true) {
        process.stderr.write([
          `meshbench report: ${r.steps} steps, ${r.chartFiles.length} charts, ${r.flameGraphFiles.length} flame graphs in ${((performance.now() - startMs) / 1000).toFixed(1)} s`,
          `  html:     ${rel(r.html)}`,
          `  summary:  ${rel(r.markdown)}`,
          `  csv:      ${rel(r.csv)}`,
          `  charts:   ${rel(path.join(r.dir, 'charts'))}/*.svg`,
          `  exports:  ${rel(path.join(r.dir, 'exports'))}/smp (${r.smpFiles} files), fortio (${r.fortioFiles} files)`,
          '',
        ].join('\n'));
      }
      process.stdout.write(`${r.html}\n`);
    });
}
