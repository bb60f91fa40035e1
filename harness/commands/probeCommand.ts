import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { CgroupTree, detectCgroupLayout, meshbenchCgroupName, type Cgroup } from '../cgroupTree';
import { BadInputError, NotRootError } from '../errors';
import { parsePositiveInt } from '../cliParse';
import { writeFileAtomic } from '../atomicWrite';
import { ProbeSet } from '../probes/probeSet';
import { emptyRecord } from '../probes/probeRecord';
import { formatProbeReport } from '../probes/probeReport';

interface ProbeFlags {
  /** true: JSON on stdout (the command's stdout moved to stderr); a string: JSON into that file. */
  json?: boolean | string;
  sample?: string;
  folded?: string;
  syscallTime?: boolean;
}

/** argv that enters the cgroup (v2 and v1) and then execs the command in the same pid: not one event escapes. */
export function enterCgroupArgv(cgroup: Cgroup, command: readonly string[]): string[] {
  const procs = [cgroup.v2Path, ...new Set(Object.values(cgroup.v1Paths))].map((p) => path.join(p, 'cgroup.procs'));
  return ['sh', '-c', `${procs.map((f) => `echo $$ > ${f}`).join(' && ')} && exec "$@"`, 'sh', ...command];
}

/** Removes the meshbench cgroup roots too when nothing else of meshbench lives there (rmdir refuses otherwise). */
export function removeEmptyMeshbenchRoots(): void {
  const layout = detectCgroupLayout();
  for (const mount of new Set([layout.v2Mount, ...Object.values(layout.v1Mounts)])) {
    try {
      fs.rmdirSync(path.join(mount, meshbenchCgroupName));
    } catch {
      // in use by a run, or already gone
    }
  }
}

/**
 * Runs argv to its exit code (128 + signal number when killed). `stdoutToStderr` sends the command's stdout
 * to meshbench's stderr, so meshbench's own stdout carries nothing but its JSON (`… | jq` works whatever the
 * command prints).
 */
export function waitForExit(argv: string[], stdoutToStderr = false): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: stdoutToStderr ? ['inherit', 2, 'inherit'] : 'inherit' });
    // Ctrl-C reaches the command through the terminal's process group; meshbench stays to clean up.
    const ignore = (): void => undefined;
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      resolve(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]));
    });
  });
}

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('run a command in a cgroup of its own under all probes and print its counters (like perf stat)')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('--json [file]', 'the counters as JSON: into FILE, or on stdout with the command\'s stdout moved to stderr (put the command after --)')
    .option('--sample <hz>', 'also sample stacks with cpu-clock at this frequency (e.g. 99)')
    .option('--folded <file>', 'write the sampled stacks there in folded format (with --sample)')
    .option('--syscall-time', 'also time each syscall (costs about twice as much as counting)')
    .action(async (command: string[], flags: ProbeFlags) => {
      if (command.length === 0) throw new BadInputError('give the command to probe after --', 'meshbench probe -- curl -s http://127.0.0.1:8080/');
      const sampleHz = flags.sample === undefined ? 0 : parsePositiveInt('--sample', flags.sample);
      if (flags.folded !== undefined && sampleHz === 0) throw new BadInputError('--folded needs --sample HZ');
      if (flags.json === '') throw new BadInputError('--json needs a file name, or nothing (JSON on stdout)');
      if (typeof flags.json === 'string' && !fs.existsSync(path.dirname(path.resolve(flags.json)))) {
        throw new BadInputError(`--json ${flags.json}: no such folder ${path.dirname(path.resolve(flags.json))}`);
      }
      if (process.getuid?.() !== 0) throw new NotRootError('meshbench probe loads eBPF programs and creates a cgroup');
      const jsonOnStdout = flags.json === true;
      const tree = new CgroupTree();
      const name = `probe-${process.pid}`;
      const cgroup = tree.create(name);
      let set: ProbeSet | undefined;
      try {
        set = new ProbeSet({ sampleHz, syscallTime: flags.syscallTime === true });
        set.begin([{ name: 'command', cgroupId: cgroup.id, v2Path: cgroup.v2Path }]);
        const startNs = process.hrtime.bigint();
        const exitCode = await waitForExit(enterCgroupArgv(cgroup, command), jsonOnStdout);
        const durationUs = Number((process.hrtime.bigint() - startNs) / 1000n);
        const reading = set.end();
        const record = reading.components.command ?? emptyRecord(cgroup.id.toString());
        const folded = reading.foldedStacks.command ?? '';
        if (flags.folded !== undefined) writeFileAtomic(flags.folded, folded === '' ? '' : `${folded}\n`);
        if (flags.json !== undefined && flags.json !== false) {
          const out = { command, exitCode, durationUs, cgroupId: cgroup.id.toString(), counters: record, probes: set.status(), ...(sampleHz > 0 ? { foldedStacks: folded } : {}) };
          const text = `${JSON.stringify(out, null, 2)}\n`;
          if (typeof flags.json === 'string') writeFileAtomic(flags.json, text);
          else process.stdout.write(text);
        } else {
          process.stderr.write(formatProbeReport({ command, exitCode, durationUs, record, probes: set.status() }));
        }
        process.exitCode = exitCode;
      } finally {
        set?.close();
        tree.remove(name);
        removeEmptyMeshbenchRoots();
        if (fs.existsSync(cgroup.v2Path)) process.stderr.write(`meshbench: cgroup ${cgroup.v2Path} is still there (meshbench cleanup removes it)\n`);
      }
    });
}
