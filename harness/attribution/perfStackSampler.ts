import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/*
 * cpu-clock stack samples per component through the distribution's `perf`: system-wide sampling, each
 * sample assigned to a component by its process id (collected from the components' cgroup.procs through
 * the window). cpu-clock is a software event, so this works without a PMU and under lockdown=integrity.
 * Used when the probe provider brings no stacks of its own.
 */

export interface StackTarget {
  readonly name: string;
  readonly v2Path: string;
}

/** Frames leaf-first as `perf script` prints them → folded lines per component ("comm;root;…;leaf count", kernel frames `_[k]`). */
export function foldPerfScript(text: string, componentOfPid: ReadonlyMap<number, string>): Record<string, string> {
  const counts = new Map<string, Map<string, number>>();
  let component: string | undefined;
  let comm = '';
  let frames: string[] = [];
  const flush = (): void => {
    if (component !== undefined && frames.length > 0) {
      // The command name is the root frame, as in stackcollapse-perf.pl and the eBPF sampler's folding.
      const key = [comm.replace(/[;\s]+/g, '_') || '[unknown]', ...frames.reverse()].join(';');
      const m = counts.get(component) ?? new Map<string, number>();
      m.set(key, (m.get(key) ?? 0) + 1);
      counts.set(component, m);
    }
    component = undefined;
    frames = [];
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (!/^\s/.test(line)) {
      flush();
      // "comm  pid/tid" (comm may contain spaces)
      const m = /\s(\d+)\/(\d+)\s*$/.exec(line);
      component = m === null ? undefined : componentOfPid.get(Number(m[1]));
      comm = m === null ? '' : line.slice(0, m.index).trim();
      continue;
    }
    if (component === undefined) continue;
    const f = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (f === null) continue;
    const sym = f[1] ?? '[unknown]';
    const dso = f[2] ?? '';
    if (dso === '[kernel.kallsyms]') frames.push(`${sym.replace(/\+0x[0-9a-f]+$/, '')}_[k]`);
    else frames.push(sym === '[unknown]' ? `[${path.basename(dso) || 'unknown'}]` : sym.replace(/\+0x[0-9a-f]+$/, ''));
  }
  flush();
  const out: Record<string, string> = {};
  for (const [c, m] of counts) out[c] = [...m].map(([stack, n]) => `${stack} ${n}`).join('\n');
  return out;
}

/** null when `perf` can sample here; otherwise why not. */
export function perfUnavailableReason(): string | null {
  const r = spawnSync('perf', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined || r.status !== 0) return 'perf is not installed (apt-get install linux-perf)';
  if (process.getuid?.() !== 0) return 'stack sampling needs root';
  return null;
}

function readPids(v2Path: string): number[] {
  try {
    return fs.readFileSync(path.join(v2Path, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
  } catch {
    return [];
  }
}

export class PerfStackSampler {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly pids = new Map<number, string>();
  private readonly dir: string;
  private readonly dataFile: string;

  constructor(private readonly targets: readonly StackTarget[], private readonly sampleHz: number) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-perf-'));
    this.dataFile = path.join(this.dir, 'perf.data');
  }

  /** Resolves once perf is recording (its first output), so the window is covered from the start. */
  async start(): Promise<void> {
    this.collectPids();
    this.timer = setInterval(() => this.collectPids(), 100);
    this.timer.unref();
    const child = spawn('perf', ['record', '-e', 'cpu-clock', '-F', String(this.sampleHz), '-a', '-g', '-q', '-o', this.dataFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => { child.once('close', () => resolve()); child.once('error', () => resolve()); });
    // perf creates the data file when its events are open.
    const deadline = Date.now() + 3000;
    while (!fs.existsSync(this.dataFile) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
  }

  /** Stops perf and folds its samples per component; removes its files. */
  async stop(): Promise<Record<string, string>> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.collectPids();
    try {
      if (this.child !== undefined && this.child.exitCode === null) this.child.kill('SIGINT');
      await this.exited;
      if (!fs.existsSync(this.dataFile)) return {};
      const script = await runToString('perf', ['script', '-i', this.dataFile, '-F', 'comm,pid,tid,ip,sym,dso']);
      return foldPerfScript(script, this.pids);
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Ends perf without reading (abort paths). */
  kill(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.child !== undefined && this.child.exitCode === null) this.child.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private collectPids(): void {
    for (const t of this.targets) for (const pid of readPids(t.v2Path)) this.pids.set(pid, t.name);
  }
}

function runToString(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    child.on('error', () => resolve(''));
  });
}
