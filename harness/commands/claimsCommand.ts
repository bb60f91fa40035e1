import type { Command } from 'commander';
import { evaluateClaims } from '../../reports/claims/claimsEvaluation';
import { claimsText } from '../../reports/claims/claimsTable';
import { loadRunForReport } from '../../reports/writeReport';
import { summarise } from '../results/summarise';

interface ClaimsFlags {
  json?: boolean;
}

/** `meshbench claims RESULTS_DIR`: the talk's claims against a run (best from profiles/seed-claims.yaml). */
export function registerClaimsCommand(program: Command): void {
  program
    .command('claims')
    .description("answer the Kmesh talk's claims (latency added, connections on the path, where the sidecar's overhead goes) from a results folder")
    .argument('<results-dir>', 'a folder written by meshbench run (profiles/seed-claims.yaml measures every claim)')
    .option('--json', 'print the rows as JSON')
    .action((dir: string, flags: ClaimsFlags) => {
      // A missing or damaged folder is a BadInputError: one line, exit code 2.
      const { run, steps } = loadRunForReport(dir);
      const summary = summarise(run.runId, run.status === 'running' ? 'partial' : run.status, steps);
      const rows = evaluateClaims(summary, steps);
      if (flags.json === true) process.stdout.write(`${JSON.stringify({ kind: 'meshbench-claims', runId: run.runId, profile: run.profile.name, claims: rows }, null, 2)}\n`);
      else process.stdout.write(`meshbench claims: ${run.runId} (profile ${run.profile.name}, ${run.status})\n${claimsText(rows)}`);
    });
}
