import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EnvironmentError } from '../../harness/errors';

/** Helpers shared by the benchmarks: pinned processes, tool checks, medians. */

export function requireTool(name: string, why: string): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) {
    throw new EnvironmentError(`${name} is not installed (${why})`, 'run bash ci/setup.sh as root');
  }
}

/** Runs a command pinned to `cpu` to completion and returns its stdout. */
export function runPinned(cpu: number, cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Starts a long-running server pinned to `cpu`; resolves once `ready` matches its output. */
export function startPinned(cpu: number, cmd: string, args: string[], ready: RegExp | undefined, waitMs = 300): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (ready !== undefined && ready.test(out)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before it was ready: ${out.trim()}`)));
    if (ready === undefined) setTimeout(() => resolve(child), waitMs);
  });
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** What a pinned command printed and the CPU it used (its rusage: user + system of it and its threads, µs). */
export interface RusageRun {
  readonly stdout: string;
  readonly userUs: number;
  readonly systemUs: number;
}

/** Parses bash's `times` children line, e.g. "0m1.234s 0m0.056s", into µs. */
export function parseTimesLine(line: string): { userUs: number; systemUs: number } {
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (m === null) throw new Error(`could not read the CPU times: ${JSON.stringify(line)}`);
  const us = (min: string, s: string): number => Math.round((Number(min) * 60 + Number(s)) * 1e6);
  return { userUs: us(m[1] as string, m[2] as string), systemUs: us(m[3] as string, m[4] as string) };
}

/**
 * Runs a command pinned to `cpu` to completion, like runPinned, and returns the CPU it used from its rusage:
 * bash's `times` builtin reports the children's user and system time as wait4(2) collected them (taskset execs
 * the command, so the child is the command itself, threads included), to the millisecond. Whole lifetime,
 * start-up included.
 */
export function runPinnedWithRusage(cpu: number, cmd: string, args: string[], timeoutMs = 120_000): Promise<RusageRun> {
  return new Promise((resolve, reject) => {
    const script = '"$@"; rc=$?; times >&3; exit $rc';
    const child = spawn('bash', ['-c', script, 'bash', 'taskset', '-c', String(cpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let times = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { times += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${cmd} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      try {
        resolve({ stdout: out, ...parseTimesLine(times.trim().split('\n').at(-1) ?? '') });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}
