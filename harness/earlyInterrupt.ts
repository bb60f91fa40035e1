/**
 * Ctrl-C before a command has its own SIGINT/SIGTERM handler (while Node loads meshbench's modules, ~0.5 s) used
 * to kill the process silently (exit 130, nothing on stderr), which read like a lost result. This module is the
 * CLI's first import, so its handler is in place before the rest loads: alone, it says in one line that nothing
 * was written and exits 130; once a command has installed its own handler (load, run, echo) it leaves the
 * signal to that one.
 */
const onEarlySignal = (signal: NodeJS.Signals): void => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write('meshbench: interrupted before anything was measured; nothing written\n');
  process.exit(130);
};
process.on('SIGINT', onEarlySignal);
process.on('SIGTERM', onEarlySignal);

/** Whether the early handler is installed (it is, once this module has loaded); for tests. */
export const earlyInterruptInstalled = true;
