import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const cliPath = path.join(__dirname, '..', '..', 'harness', 'cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(args: string[], timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`meshbench ${args.join(' ')} timed out`)); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface EchoChild {
  readonly port: number;
  readonly proc: ChildProcess;
  stop(): Promise<void>;
  /** What it has written to stderr so far (after stop: its last line too). */
  stderr(): string;
}

/** Starts `meshbench echo` in its own process (so stalls and CPU are its own) on a free port; `env` is added to this process's environment. */
export function startEchoChild(args: string[] = [], env: Record<string, string> = {}): Promise<EchoChild> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [cliPath, 'echo', '--port', '0', '--duration', '120s', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    const stop = (): Promise<void> => new Promise((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) { done(); return; }
      proc.once('exit', () => done());
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
    });
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [^\s]+:(\d+)/.exec(err);
      if (m !== null) resolve({ port: Number(m[1]), proc, stop, stderr: () => err });
    });
    proc.once('exit', (code) => reject(new Error(`echo exited ${code}: ${err}`)));
  });
}
