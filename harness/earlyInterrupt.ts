/**
 * Ctrl-C before a command has its own SIGINT/SIGTERM handler (while Node loads meshbench's modules, ~0.5 s) used
 * to kill the process silently (exit 130, nothing on stderr), which read like a lost result. This module is the
 * CLI's first import, so its handler is in place before the rest loads: alone, it says in one line that nothing
 * was written and exits 130; once a command has installed its own handler (load, run, echo) it leaves the
 * signal to that one. A command without a handler of its own (report, claims, cleanup…) that has started may
 * have written files, so there the line says only that it was interrupted (commandStarted).
 */
let started = false;

/** Called as a command's action begins (the CLI's preAction hook): from then on "nothing written" may be untrue. */
export function commandStarted(): void {
  started = true;
}

const onEarlySignal = (signal: NodeJS.Signals): void => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(started ? 'meshbench: interrupted\n' : 'meshbench: interrupted before anything was measured; nothing written\n');
  process.exit(130);
};
process.on('SIGINT', onEarlySignal);
process.on('SIGTERM', onEarlySignal);

/** Whether the early handler is installed (it is, once this module has loaded); for tests. */
export const earlyInterruptInstalled = true;
