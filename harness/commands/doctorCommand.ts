import type { Command } from 'commander';
import type { DoctorCheck } from '../doctor/doctorCheck';
import { formatDoctorTable } from '../doctor/doctorTable';
import { doctorExitCode, ensureSecurityfs, localDoctorChecks, realMachine } from '../doctor/localChecks';

interface DoctorFlags {
  json?: boolean;
  kubernetes?: boolean;
  context?: string;
  kubeconfig?: string;
}

/** `meshbench doctor`: one table of what this machine (or, with --kubernetes, a cluster) can do; exit 3 only when the core is missing. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('what this machine can do: root, kernel features for the probes, cgroups, tools; each with how to enable it')
    .option('--json', 'print the checks as JSON')
    .option('--kubernetes', 'instead: what the kubeconfig context\'s cluster offers (API, permissions, meshes, metrics, privileged pods)')
    .option('--context <name>', 'with --kubernetes: the kubeconfig context (default: the current one)')
    .option('--kubeconfig <file>', 'with --kubernetes: the kubeconfig (default: $KUBECONFIG, then ~/.kube/config)')
    .action(async (flags: DoctorFlags) => {
      let checks: DoctorCheck[];
      if (flags.kubernetes === true) {
        // Loaded only here: the kubernetes client must not weigh on every meshbench process (the workloads too).
        const { kubernetesDoctorChecks } = await import('../platforms/kubernetes/kubernetesDoctor');
        checks = await kubernetesDoctorChecks(flags.context, flags.kubeconfig);
      } else {
        ensureSecurityfs(realMachine());
        // Loaded only here (it loads the BPF addon): trying each hook for real beats inferring it.
        const { probeKernelFeatures } = await import('../../bpf/kernelFeatures');
        checks = localDoctorChecks({ ...realMachine(), kernelFeatures: probeKernelFeatures() });
      }
      if (flags.json === true) process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
      else process.stdout.write(formatDoctorTable(checks));
      process.exitCode = doctorExitCode(checks);
    });
}
