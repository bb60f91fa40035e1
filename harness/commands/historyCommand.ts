import type { Command } from 'commander';
import { gateMetrics } from '../profile/profileSchema';
import type { GateMetric } from '../../reports/compare/gateMetrics';
import { writeHistory } from '../../reports/history/writeHistory';
import { BadInputError, ExitCode } from '../errors';

interface HistoryFlags {
  metric: string;
  output: string;
  failOnChangePoint?: boolean;
}

export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('chart one metric across many runs (a nightly trend), marking the runs the regression gate flagged and the change points (E-divisive means) of every gated metric')
    .argument('<dirs...>', 'results folders, or folders holding results folders')
    .option('-m, --metric <metric>', `one of ${gateMetrics.join(', ')}`, 'latency.p99')
    .option('-o, --output <dir>', 'where to write history.html, history.md, history.csv, history.svg', 'history')
    .option('--fail-on-change-point', 'exit 1 when the newest run brings a change point in the worse direction (the nightly job uses this)')
    .action(async (dirs: string[], flags: HistoryFlags) => {
      if (!(gateMetrics as readonly string[]).includes(flags.metric)) throw new BadInputError(`--metric ${flags.metric}: expected one of ${gateMetrics.join(', ')}`);
      const h = await writeHistory(dirs, flags.metric as GateMetric, flags.output);
      const fresh = h.changePoints.filter((c) => c.isNew).length;
      process.stderr.write(`meshbench history: ${h.runs} runs, ${h.flaggedRuns} flagged by the gate, ${h.changePoints.length} change points (${fresh} new, ${h.newWorse.length} new and worse)\n`);
      for (const c of h.newWorse) process.stderr.write(`  new change point, worse: ${c.metric} ${c.dataplane} ${c.load} from ${c.runId}: ${c.beforeMedian.toFixed(1)} → ${c.afterMedian.toFixed(1)} (${c.changePct >= 0 ? '+' : ''}${c.changePct.toFixed(1)}%)\n`);
      process.stderr.write(`  html:     ${h.html}\n  markdown: ${h.markdown}\n`);
      process.stdout.write(`${h.html}\n`);
      if (flags.failOnChangePoint === true && h.newWorse.length > 0) process.exitCode = ExitCode.failure;
    });
}
