import type { Command } from 'commander';
import { cleanupEverything } from '../platforms/netns/cleanup';

interface CleanupFlags {
  json?: boolean;
  kubernetes?: boolean;
  context?: string;
  kubeconfig?: string;
}

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description('remove everything meshbench created on this machine (namespaces, cgroups, processes, BPF pins), also after a crash')
    .option('--json', 'print what was removed as JSON')
    .option('--kubernetes', 'instead: delete every namespace labelled meshbench.io/run on the kubectl context\'s cluster')
    .option('--context <name>', 'with --kubernetes: the kubeconfig context (default: the current one)')
    .option('--kubeconfig <file>', 'with --kubernetes: the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .action(async (flags: CleanupFlags) => {
      if (flags.kubernetes === true) {
        // Loaded only here: the kubernetes client must not weigh on every meshbench process (the workloads too).
        const { cleanupKubernetes } = await import('../platforms/kubernetes/kubernetesCleanup');
        const report = await cleanupKubernetes(flags.context, flags.kubeconfig);
        if (flags.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else if (report.namespaces.length + report.daemonSets.length === 0) process.stdout.write(`meshbench cleanup: nothing to remove on context ${report.context}\n`);
        else process.stdout.write(`meshbench cleanup: deleting on context ${report.context}: ${[...report.namespaces.map((n) => `namespace ${n}`), ...report.daemonSets.map((d) => `daemonset ${d}`)].join(', ')}\n`);
        return;
      }
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
