#!/usr/bin/env -S node --no-memory-reducer
// First: the handler for a Ctrl-C that arrives while the rest loads.
import { commandStarted } from './earlyInterrupt';
import { Command, CommanderError } from 'commander';
import { describeError } from './errors';
import { commandRegistry } from './commandRegistry';
import { meshbenchVersion } from './version';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('meshbench')
    .description('measure what a service-mesh data plane costs and explain where the cost goes')
    .version(meshbenchVersion())
    .showSuggestionAfterError(true)
    .exitOverride()
    // commander prints its own one-line errors (unknown flag, missing argument); keep them to stderr.
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.hook('preAction', () => commandStarted());
  for (const register of commandRegistry) register(program);
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; everything else it already printed in one line.
      return err.exitCode === 0 ? 0 : 2;
    }
    const { line, exitCode } = describeError(err);
    process.stderr.write(`meshbench: ${line}\n`);
    if (process.env.MESHBENCH_DEBUG !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return exitCode;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`meshbench: internal error: ${describeError(err).line}\n`);
      process.exitCode = 1;
    },
  );
}
