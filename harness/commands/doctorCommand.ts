import type { Command } from 'commander';
import { formatDoctorTable } from '../doctor/doctorTable';
import { doctorExitCode, ensureSecurityfs, localDoctorChecks, realMachine } from '../doctor/localChecks';

/** `meshbench doctor`: one table of what this machine can do; exit 3 only when the core is missing. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('what this machine can do: root, kernel features for the probes, cgroups, tools; each with how to enable it')
    .option('--json', 'print the checks as JSON')
    .action((flags: { json?: boolean }) => {
      const machine = realMachine();
      ensureSecurityfs(machine);
      const checks = localDoctorChecks(realMachine());
      if (flags.json === true) process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
      else process.stdout.write(formatDoctorTable(checks));
      process.exitCode = doctorExitCode(checks);
    });
}
