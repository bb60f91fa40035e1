import { spawn } from 'node:child_process';
import { EnvironmentError } from '../../errors';

/** Runs a short-lived command (ip, iptables-restore, openssl…) and returns its stdout; stdin optional. */
export function run(argv: readonly string[], input?: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) {
      reject(new Error('empty command'));
      return;
    }
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`could not run ${cmd}: ${err.message}`, `install it (bash ci/setup.sh)`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else {
        const why = stderr.trim().split('\n').slice(-3).join('; ') || (signal !== null ? `killed by ${signal}` : `exit code ${code}`);
        reject(new EnvironmentError(`${argv.slice(0, 4).join(' ')} failed: ${why}`));
      }
    });
    child.stdin.on('error', () => { /* the command exited before reading its input: reported by close */ });
    child.stdin.end(input ?? '');
  });
}

/** Like run, but never throws: for cleanup, where every step must be attempted. */
export async function tryRun(argv: readonly string[], input?: string): Promise<boolean> {
  try {
    await run(argv, input);
    return true;
  } catch {
    return false;
  }
}

/** `ip [-n NS] -batch -` with the given lines; -force keeps going past errors only when asked. */
export function ipBatch(netns: string | undefined, lines: readonly string[], force = false): Promise<string> {
  const argv = ['ip', ...(netns === undefined ? [] : ['-n', netns]), ...(force ? ['-force'] : []), '-batch', '-'];
  return run(argv, `${lines.join('\n')}\n`);
}

/** A command run inside a network namespace without a new mount namespace (nsenter, not `ip netns exec`). */
export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=/run/netns/${netns}`, '--', ...argv];
}
