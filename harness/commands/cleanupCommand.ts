import type { Command } from 'commander';
import { cleanupEverything } from '../platforms/netns/cleanup';

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description('remove everything meshbench created on this machine (namespaces, cgroups, processes, BPF pins), also after a crash')
    .option('--json', 'print what was removed as JSON')
    .action(async (flags: { json?: boolean }) => {
      const report = await cleanupEverything();
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const n = report.namespaces.length + report.cgroups.length + report.bpfPins.length + report.folders.length;
      if (n === 0) {
        process.stdout.write('meshbench cleanup: nothing to remove\n');
        return;
      }
      process.stdout.write(`meshbench cleanup: removed ${report.namespaces.length} namespaces, ${report.cgroups.length} cgroup folders, `
        + `${report.bpfPins.length} BPF pins, ${report.folders.length} work folders${report.previousRun === null ? '' : ` (run ${report.previousRun})`}\n`);
    });
}
