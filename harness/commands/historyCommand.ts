import type { Command } from 'commander';
import { gateMetrics } from '../profile/profileSchema';
import type { GateMetric } from '../../reports/compare/gateMetrics';
import { writeHistory } from '../../reports/history/writeHistory';
import { BadInputError } from '../errors';

interface HistoryFlags {
  metric: string;
  output: string;
}

export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('chart one metric across many runs (a nightly trend), marking the runs the regression gate flagged')
    .argument('<dirs...>', 'results folders, or folders holding results folders')
    .option('-m, --metric <metric>', `one of ${gateMetrics.join(', ')}`, 'latency.p99')
    .option('-o, --output <dir>', 'where to write history.html, history.md, history.csv, history.svg', 'history')
    .action(async (dirs: string[], flags: HistoryFlags) => {
      if (!(gateMetrics as readonly string[]).includes(flags.metric)) throw new BadInputError(`--metric ${flags.metric}: expected one of ${gateMetrics.join(', ')}`);
      const h = await writeHistory(dirs, flags.metric as GateMetric, flags.output);
      process.stderr.write(`meshbench history: ${h.runs} runs, ${h.flaggedRuns} flagged by the gate\n  html:     ${h.html}\n  markdown: ${h.markdown}\n`);
      process.stdout.write(`${h.html}\n`);
    });
}
