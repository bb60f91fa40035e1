import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { CgroupTree } from '../../harness/cgroupTree';
import { enterCgroupArgv, removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import { describeError, NotRootError } from '../../harness/errors';
import { writeFileAtomic } from '../../harness/atomicWrite';
import { defaultSyscallSlices, ProbeSet } from '../../harness/probes/probeSet';
import type { ProbeName } from '../../harness/profile/profileSchema';
import * as bpf from '../../bpf/bpfBindings';
import type { ResolvedTarget } from '../../harness/probes/probeTargets';
import { median, requireTool, stopProcess } from './benchProcess';
import { EmptyHooks } from './emptyHooks';

/*
 * npm run bench:probes — what do the probes cost? Max throughput of `meshbench load --qps 0` against
 * `meshbench echo` over loopback inside a private network namespace, as on the netns platform (client pinned
 * to CPU 0, server to CPU 1, each in a cgroup of its own, both registered, so the probes do their full work),
 * with: no probes; the lean hook set the runner's instrumented repetitions use, without and with 99 Hz stack
 * sampling; the full hook set (`meshbench probe`); and empty programs on each set's hooks, attached the same
 * way (the dispatch floor: what the kernel charges for running any program there, which no probe body can go
 * below). The variants run interleaved in rotating order within each repetition, and each cost is the median
 * over repetitions of each repetition's ratio to its own no-probe run, so drift on a shared machine cancels.
 * Bars: the lean set (all instrumented probes) costs <= 6 %, sampling <= 1 % more.
 */

const variants = ['none', 'lean', 'lean+sampling', 'full', 'empty-lean', 'empty-full'] as const;
type Variant = (typeof variants)[number];
type Measured = Exclude<Variant, 'none'>;
const measured: readonly Measured[] = ['lean', 'lean+sampling', 'full', 'empty-lean', 'empty-full'];

const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 9);
const sampleHz = Number(process.env.BENCH_SAMPLE_HZ ?? 99);
const port = Number(process.env.BENCH_PORT ?? 18490);
const repoRoot = path.join(__dirname, '..', '..', '..');
const cli = path.join(repoRoot, 'dist', 'harness', 'cli.js');
const outFile = process.env.BENCH_OUT ?? path.join(repoRoot, 'bench-results', 'probes.json');
const leanBarPct = 6;
const samplingBarPct = 1;

function cgroupUsageUs(v2Path: string): number {
  const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(v2Path, 'cpu.stat'), 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code, signal) => (code === 0 ? resolve('') : reject(new Error(`${argv.slice(-8).join(' ')} exited ${code ?? signal}: ${err.trim().slice(-300)}`))));
  });
}

function startServer(argv: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
}

interface ProgramCost { probe: string; program: string; runTimeNs: number; runCount: number }

/** Sections a set attaches for these targets: for the whole window, and in time slices. */
function hooksOf(set: ProbeSet, targets: readonly ResolvedTarget[]): { hooks: string[]; sliced: string[] } {
  set.begin(targets);
  const plan = set.plan();
  set.end();
  return { hooks: plan.flatMap((p) => p.hooks), sliced: plan.flatMap((p) => p.slicedHooks) };
}

function spread(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new NotRootError('the probe benchmark loads eBPF programs');
  requireTool('taskset', 'pinning');
  requireTool('ip', 'the private network namespace');
  if (os.cpus().length < 2) console.error('warning: fewer than 2 CPUs; client and server share a core');
  const tree = new CgroupTree();
  const name = `bench-probes-${process.pid}`;
  const netns = `mb-bench-probes-${process.pid}`;
  const serverCg = tree.create(`${name}/server`);
  const clientCg = tree.create(`${name}/client`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bench-probes-'));
  const sets: Partial<Record<'lean' | 'lean+sampling' | 'full', ProbeSet>> = {};
  const floors: Partial<Record<'empty-lean' | 'empty-full', EmptyHooks>> = {};
  let server: ChildProcess | undefined;
  let netnsMade = false;
  try {
    execFileSync('ip', ['netns', 'add', netns]);
    netnsMade = true;
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    const inNetns = (argv: string[]): string[] => ['ip', 'netns', 'exec', netns, ...argv];
    // Loaded once, outside the measurement: verification is not what a step pays.
    // BENCH_PROBES=copy,syscalls measures a subset (to find which probe costs what).
    const include = process.env.BENCH_PROBES === undefined ? undefined : (process.env.BENCH_PROBES.split(',') as ProbeName[]);
    const only = include === undefined ? {} : { probes: include };
    sets.lean = new ProbeSet({ hooks: 'lean', ...only });
    sets['lean+sampling'] = new ProbeSet({ hooks: 'lean', sampleHz, ...only });
    sets.full = new ProbeSet({ hooks: 'full', ...only });
    server = await startServer(enterCgroupArgv(serverCg, inNetns(['taskset', '-c', '1', process.execPath, cli, 'echo', '--port', String(port)])));
    const targets: ResolvedTarget[] = [
      { name: 'server', cgroupId: serverCg.id, v2Path: serverCg.v2Path },
      { name: 'client', cgroupId: clientCg.id, v2Path: clientCg.v2Path },
    ];
    // Each floor hooks exactly what its set attaches for these targets, the same way.
    const leanHooks = hooksOf(sets.lean, targets);
    const fullHooks = hooksOf(sets.full, targets);
    floors['empty-lean'] = new EmptyHooks(leanHooks.hooks, { sections: leanHooks.sliced, spec: defaultSyscallSlices });
    floors['empty-full'] = new EmptyHooks([...fullHooks.hooks, ...fullHooks.sliced]);
    const load = (file: string): Promise<string> => run(enterCgroupArgv(clientCg, inNetns(['taskset', '-c', '0', process.execPath, cli, 'load', `http://127.0.0.1:${port}/`, '--qps', '0', '-c', String(connections), '-t', `${seconds}s`, '--warmup', '1s', '--quiet', '--json', file])));
    const rps: Record<Variant, number[]> = { none: [], lean: [], 'lean+sampling': [], full: [], 'empty-lean': [], 'empty-full': [] };
    const ratios: Record<Measured, number[]> = { lean: [], 'lean+sampling': [], full: [], 'empty-lean': [], 'empty-full': [] };
    const samples: number[] = [];
    for (let rep = 0; rep < repetitions; rep += 1) {
      const order = variants.map((_, i) => variants[(i + rep) % variants.length] as Variant);
      const got: Partial<Record<Variant, number>> = {};
      for (const v of order) {
        const file = path.join(dir, `load-${rep}-${v.replace('+', '-')}.json`);
        const set = v === 'lean' || v === 'lean+sampling' || v === 'full' ? sets[v] : undefined;
        const floor = v === 'empty-lean' || v === 'empty-full' ? floors[v] : undefined;
        set?.begin(targets);
        floor?.attach();
        try {
          await load(file);
        } finally {
          floor?.detach();
          const reading = set?.end();
          if (reading !== undefined && v === 'lean+sampling') samples.push(Object.values(reading.components).reduce((a, c) => a + c.samples, 0));
        }
        got[v] = (JSON.parse(fs.readFileSync(file, 'utf8')) as { actualQps: number }).actualQps;
        rps[v].push(got[v] as number);
      }
      for (const v of measured) ratios[v].push((got[v] as number) / (got.none as number));
      console.error(`rep ${rep + 1}/${repetitions}: ${variants.map((v) => `${v} ${Math.round(got[v] ?? 0)}`).join(', ')} rps`);
    }
    // One more run per set with the kernel's BPF statistics on: each program's events per request and CPU time.
    const statsRun = async (set: ProbeSet, label: string): Promise<Record<string, unknown>> => {
      const usageBefore = cgroupUsageUs(serverCg.v2Path) + cgroupUsageUs(clientCg.v2Path);
      const statsFd = bpf.enableStats();
      const costsBefore = set.programCosts();
      // Calibration: the selftest program on sys_enter returns at its first compare (target_tgid 0), so its
      // time per run is what the statistics themselves and the dispatch add to every program.
      const calib = bpf.openObject('selftest');
      bpf.setAutoload(calib, 'mb_probe_tpbtf', false);
      bpf.load(calib);
      const calibLink = bpf.attach(calib, 'mb_selftest');
      let programCosts: ProgramCost[] = [];
      const file = path.join(dir, `stats-${label}.json`);
      set.begin(targets);
      try {
        await load(file);
      } finally {
        set.end();
        bpf.detach(calibLink);
        programCosts = set.programCosts().map((c, i) => ({ ...c, runTimeNs: c.runTimeNs - (costsBefore[i]?.runTimeNs ?? 0), runCount: c.runCount - (costsBefore[i]?.runCount ?? 0) }));
        bpf.perfEventClose(statsFd);
      }
      const calibStats = bpf.programStats(calib)[0];
      bpf.close(calib);
      const floorNsPerRun = calibStats !== undefined && calibStats.runCount > 0n ? Number(calibStats.runTimeNs) / Number(calibStats.runCount) : 0;
      const runs = programCosts.reduce((a, c) => a + c.runCount, 0);
      const workloadCpuUs = cgroupUsageUs(serverCg.v2Path) + cgroupUsageUs(clientCg.v2Path) - usageBefore;
      const probeCpuUs = programCosts.reduce((a, c) => a + c.runTimeNs, 0) / 1000;
      const requests = (JSON.parse(fs.readFileSync(file, 'utf8')) as { requestsCompleted?: number }).requestsCompleted ?? 0;
      return {
        note: 'one extra run with BPF_ENABLE_STATS: probe CPU time over the workload cgroups\' CPU time; events are machine-wide (every task crossing the hook), per request of the workload',
        requests,
        probeCpuUs,
        workloadCpuUs,
        probeCpuSharePct: workloadCpuUs > 0 ? (probeCpuUs / workloadCpuUs) * 100 : null,
        statsFloorNsPerRun: floorNsPerRun,
        probeCpuShareNetOfStatsPct: workloadCpuUs > 0 ? ((probeCpuUs - (runs * floorNsPerRun) / 1000) / workloadCpuUs) * 100 : null,
        eventsPerRequest: requests > 0 ? runs / requests : null,
        programs: programCosts.filter((c) => c.runCount > 0).map((c) => ({ ...c, nsPerRun: c.runTimeNs / c.runCount, eventsPerRequest: requests > 0 ? c.runCount / requests : null })),
      };
    };
    const inKernel = { lean: await statsRun(sets.lean, 'lean'), full: await statsRun(sets.full, 'full') };
    const cost = (v: Measured): number => (1 - median(ratios[v])) * 100;
    const costSpread = (v: Measured): { min: number; max: number } => {
      const s = spread(ratios[v]);
      return { min: (1 - s.max) * 100, max: (1 - s.min) * 100 };
    };
    const leanCostPct = cost('lean');
    const samplingExtraPct = cost('lean+sampling') - leanCostPct;
    const result = {
      kind: 'meshbench-bench-probes',
      date: new Date().toISOString(),
      kernel: os.release(),
      cpus: os.cpus().length,
      config: { connections, seconds, repetitions, sampleHz, probes: include ?? 'all', syscallSlices: defaultSyscallSlices, network: 'loopback in a private network namespace' },
      medianRps: Object.fromEntries(variants.map((v) => [v, median(rps[v])])),
      rps,
      ratios,
      medianRatio: Object.fromEntries(measured.map((v) => [v, median(ratios[v])])),
      costPct: Object.fromEntries(measured.map((v) => [v, cost(v)])),
      costPctSpread: Object.fromEntries(measured.map((v) => [v, costSpread(v)])),
      probesCostPct: leanCostPct,
      samplingExtraCostPct: samplingExtraPct,
      fullProbesCostPct: cost('full'),
      emptyHooks: {
        note: 'empty programs on the same hooks, attached the same way: the kernel\'s dispatch cost, a floor for any probe there',
        lean: { hooks: leanHooks.hooks, slicedHooks: leanHooks.sliced, slices: defaultSyscallSlices, costPct: cost('empty-lean') },
        full: { hooks: [...fullHooks.hooks, ...fullHooks.sliced], costPct: cost('empty-full') },
      },
      samplesPerRun: samples,
      inKernel,
      bars: { probesCostPctMax: leanBarPct, samplingExtraCostPctMax: samplingBarPct },
      pass: leanCostPct <= leanBarPct && samplingExtraPct <= samplingBarPct,
    };
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileAtomic(outFile, `${JSON.stringify(result, null, 2)}\n`);
    const pct = (v: Measured): string => `${cost(v).toFixed(2)} % (reps ${costSpread(v).min.toFixed(1)}..${costSpread(v).max.toFixed(1)})`;
    console.log(`median rps: ${variants.map((v) => `${v} ${Math.round(median(rps[v]))}`).join(', ')}`);
    console.log(`lean hook set (instrumented runs): ${leanHooks.hooks.length} hooks + ${leanHooks.sliced.length} in ${defaultSyscallSlices.onMs} of every ${defaultSyscallSlices.periodMs} ms: all probes cost ${pct('lean')}, bar ${leanBarPct} %; + ${sampleHz} Hz sampling ${samplingExtraPct.toFixed(2)} % more, bar ${samplingBarPct} %`);
    console.log(`empty programs on the lean set's hooks (its dispatch floor): ${pct('empty-lean')}`);
    console.log(`full hook set (meshbench probe), ${fullHooks.hooks.length + fullHooks.sliced.length} hooks: all probes cost ${pct('full')}; empty programs on its hooks: ${pct('empty-full')}`);
    for (const [label, k] of Object.entries(inKernel)) {
      const programs = k.programs as Array<ProgramCost & { nsPerRun: number; eventsPerRequest: number | null }>;
      console.log(`in-kernel, ${label} set: ${(Number(k.probeCpuUs) / 1000).toFixed(1)} ms of probe CPU for ${(Number(k.workloadCpuUs) / 1000).toFixed(0)} ms of workload CPU (${(k.probeCpuSharePct as number | null)?.toFixed(2) ?? '-'} %), ${(k.eventsPerRequest as number | null)?.toFixed(2) ?? '-'} events per request (machine-wide)`);
      for (const p of programs) console.log(`  ${p.probe}/${p.program}: ${p.eventsPerRequest?.toFixed(2) ?? '-'} per request, ${p.nsPerRun.toFixed(0)} ns each`);
    }
    console.log(`${result.pass ? 'PASS' : 'FAIL'}; written to ${outFile}`);
    if (!result.pass) process.exitCode = 1;
  } finally {
    if (server !== undefined) await stopProcess(server);
    for (const s of Object.values(sets)) s?.close();
    for (const f of Object.values(floors)) f?.close();
    tree.remove(name);
    removeEmptyMeshbenchRoots();
    if (netnsMade) execFileSync('ip', ['netns', 'del', netns]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:probes: ${describeError(err).line}`);
  process.exitCode = describeError(err).exitCode;
});
