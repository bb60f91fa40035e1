import { Command, CommanderError } from 'commander';
import { registerEchoCommand } from '../../commands/echoCommand';
import { registerLoadCommand } from '../../commands/loadCommand';
import { describeError } from '../../errors';

/*
 * The entry point of the one-file workloads bundle that runs in the cluster's pods (`node workloads.js
 * echo|load …`): the same echo and load commands as the CLI, without the harness around them.
 */
export async function podMain(argv: string[]): Promise<number> {
  const program = new Command().name('meshbench-workloads').exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerEchoCommand(program);
  registerLoadCommand(program);
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    const { line, exitCode } = describeError(err);
    process.stderr.write(`meshbench: ${line}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  podMain(process.argv).then((code) => { process.exitCode = code; }, () => { process.exitCode = 1; });
}
