import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { CgroupTree } from '../../harness/cgroupTree';
import { enterCgroupArgv, removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import { describeError, NotRootError } from '../../harness/errors';
import { writeFileAtomic } from '../../harness/atomicWrite';
import { ProbeSet } from '../../harness/probes/probeSet';
import type { ProbeName } from '../../harness/profile/profileSchema';
import * as bpf from '../../bpf/bpfBindings';
import type { ResolvedTarget } from '../../harness/probes/probeTargets';
import { median, requireTool, stopProcess } from './benchProcess';
import { EmptyHooks } from './emptyHooks';

/*
 * npm run bench:probes — what do the probes cost? Max throughput of `meshbench load --qps 0` against
 * `meshbench echo` on loopback (client pinned to CPU 0, server to CPU 1, each in a cgroup of its own, both
 * registered, so the probes do their full work) with: no probes, all probes, all probes + 99 Hz stack
 * sampling, and empty programs on the probes' hooks (the dispatch floor: what the kernel charges for running
 * any program there, which no probe body can go below). The variants run interleaved in rotating order within
 * each repetition, and the cost is the median over repetitions of each repetition's ratio to its own no-probe
 * run, so drift on a shared machine cancels. Bars: all probes cost <= 3 %, sampling <= 1 % more.
 */

const variants = ['none', 'probes', 'probes+sampling', 'empty-hooks'] as const;
type Variant = (typeof variants)[number];

const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 2);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 9);
const sampleHz = Number(process.env.BENCH_SAMPLE_HZ ?? 99);
const port = Number(process.env.BENCH_PORT ?? 18490);
const repoRoot = path.join(__dirname, '..', '..', '..');
const cli = path.join(repoRoot, 'dist', 'harness', 'cli.js');
const outFile = process.env.BENCH_OUT ?? path.join(repoRoot, 'bench-results', 'probes.json');

function cgroupUsageUs(v2Path: string): number {
  const m = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(v2Path, 'cpu.stat'), 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => (code === 0 ? resolve('') : reject(new Error(`${argv.slice(-8).join(' ')} exited ${code}: ${err.trim().slice(-300)}`))));
  });
}

function startServer(argv: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(child); });
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new NotRootError('the probe benchmark loads eBPF programs');
  requireTool('taskset', 'pinning');
  if (os.cpus().length < 2) console.error('warning: fewer than 2 CPUs; client and server share a core');
  const tree = new CgroupTree();
  const name = `bench-probes-${process.pid}`;
  const serverCg = tree.create(`${name}/server`);
  const clientCg = tree.create(`${name}/client`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bench-probes-'));
  const sets: Partial<Record<Variant, ProbeSet>> = {};
  let floor: EmptyHooks | undefined;
  let server: ChildProcess | undefined;
  try {
    // Loaded once, outside the measurement: verification is not what a step pays.
    // BENCH_PROBES=copy,syscalls measures a subset (to find which probe costs what).
    const include = process.env.BENCH_PROBES === undefined ? undefined : (process.env.BENCH_PROBES.split(',') as ProbeName[]);
    sets.probes = new ProbeSet({ ...(include === undefined ? {} : { probes: include }) });
    sets['probes+sampling'] = new ProbeSet({ sampleHz, ...(include === undefined ? {} : { probes: include }) });
    server = await startServer(enterCgroupArgv(serverCg, ['taskset', '-c', '1', process.execPath, cli, 'echo', '--port', String(port)]));
    const targets: ResolvedTarget[] = [
      { name: 'server', cgroupId: serverCg.id, v2Path: serverCg.v2Path },
      { name: 'client', cgroupId: clientCg.id, v2Path: clientCg.v2Path },
    ];
    // The floor hooks exactly what the probes attach for these targets.
    sets.probes.begin(targets);
    const hooks = sets.probes.attachedHooks();
    sets.probes.end();
    floor = new EmptyHooks(hooks);
    const rps: Record<Variant, number[]> = { none: [], probes: [], 'probes+sampling': [], 'empty-hooks': [] };
    const ratios: Record<Exclude<Variant, 'none'>, number[]> = { probes: [], 'probes+sampling': [], 'empty-hooks': [] };
    const samples: number[] = [];
    for (let rep = 0; rep < repetitions; rep += 1) {
      const order = variants.map((_, i) => variants[(i + rep) % variants.length] as Variant);
      const got: Partial<Record<Variant, number>> = {};
      for (const v of order) {
        const file = path.join(dir, `load-${rep}-${v.replace('+', '-')}.json`);
        const set = sets[v];
        set?.begin(targets);
        if (v === 'empty-hooks') floor.attach();
        try {
          await run(enterCgroupArgv(clientCg, ['taskset', '-c', '0', process.execPath, cli, 'load', `http://127.0.0.1:${port}/`, '--qps', '0', '-c', String(connections), '-t', `${seconds}s`, '--warmup', '1s', '--quiet', '--json', file]));
        } finally {
          if (v === 'empty-hooks') floor.detach();
          const reading = set?.end();
          if (reading !== undefined && v === 'probes+sampling') samples.push(Object.values(reading.components).reduce((a, c) => a + c.samples, 0));
        }
        got[v] = (JSON.parse(fs.readFileSync(file, 'utf8')) as { actualQps: number }).actualQps;
        rps[v].push(got[v] as number);
      }
      ratios.probes.push((got.probes as number) / (got.none as number));
      ratios['probes+sampling'].push((got['probes+sampling'] as number) / (got.none as number));
      ratios['empty-hooks'].push((got['empty-hooks'] as number) / (got.none as number));
      console.error(`rep ${rep + 1}/${repetitions}: none ${Math.round(got.none ?? 0)} rps, probes ${Math.round(got.probes ?? 0)}, probes+sampling ${Math.round(got['probes+sampling'] ?? 0)}, empty hooks ${Math.round(got['empty-hooks'] ?? 0)}`);
    }
    // One more run with the kernel's BPF statistics on: the probes' own CPU time, free of the machine's noise.
    const statsSet = sets['probes+sampling'] as ProbeSet;
    const usageBefore = cgroupUsageUs(serverCg.v2Path) + cgroupUsageUs(clientCg.v2Path);
    const statsFd = bpf.enableStats();
    const costsBefore = statsSet.programCosts();
    // Calibration: the selftest program on sys_enter returns at its first compare (target_tgid 0), so its
    // time per run is what the statistics themselves and the dispatch add to every program.
    const calib = bpf.openObject('selftest');
    bpf.setAutoload(calib, 'mb_probe_tpbtf', false);
    bpf.load(calib);
    const calibLink = bpf.attach(calib, 'mb_selftest');
    let programCosts: Array<{ probe: string; program: string; runTimeNs: number; runCount: number }> = [];
    statsSet.begin(targets);
    try {
      await run(enterCgroupArgv(clientCg, ['taskset', '-c', '0', process.execPath, cli, 'load', `http://127.0.0.1:${port}/`, '--qps', '0', '-c', String(connections), '-t', `${seconds}s`, '--warmup', '1s', '--quiet', '--json', path.join(dir, 'stats.json')]));
    } finally {
      statsSet.end();
      bpf.detach(calibLink);
      programCosts = statsSet.programCosts().map((c, i) => ({ ...c, runTimeNs: c.runTimeNs - (costsBefore[i]?.runTimeNs ?? 0), runCount: c.runCount - (costsBefore[i]?.runCount ?? 0) }));
      bpf.perfEventClose(statsFd);
    }
    const calibStats = bpf.programStats(calib)[0];
    bpf.close(calib);
    const floorNsPerRun = calibStats !== undefined && calibStats.runCount > 0n ? Number(calibStats.runTimeNs) / Number(calibStats.runCount) : 0;
    const runs = programCosts.reduce((a, c) => a + c.runCount, 0);
    const workloadCpuUs = cgroupUsageUs(serverCg.v2Path) + cgroupUsageUs(clientCg.v2Path) - usageBefore;
    const probeCpuUs = programCosts.reduce((a, c) => a + c.runTimeNs, 0) / 1000;
    const statsRequests = (JSON.parse(fs.readFileSync(path.join(dir, 'stats.json'), 'utf8')) as { requestsCompleted?: number }).requestsCompleted ?? 0;
    const probesCostPct = (1 - median(ratios.probes)) * 100;
    const samplingCostPct = (1 - median(ratios['probes+sampling'])) * 100;
    const samplingExtraPct = samplingCostPct - probesCostPct;
    const floorCostPct = (1 - median(ratios['empty-hooks'])) * 100;
    const result = {
      kind: 'meshbench-bench-probes',
      date: new Date().toISOString(),
      kernel: os.release(),
      cpus: os.cpus().length,
      config: { connections, seconds, repetitions, sampleHz, probes: include ?? 'all' },
      medianRps: { none: median(rps.none), probes: median(rps.probes), 'probes+sampling': median(rps['probes+sampling']), 'empty-hooks': median(rps['empty-hooks']) },
      rps,
      ratios,
      medianRatio: { probes: median(ratios.probes), 'probes+sampling': median(ratios['probes+sampling']), 'empty-hooks': median(ratios['empty-hooks']) },
      probesCostPct,
      samplingExtraCostPct: samplingExtraPct,
      emptyHooks: { hooks, costPct: floorCostPct, note: 'empty programs on the same hooks: the kernel\'s dispatch cost, a floor for any probe there' },
      samplesPerRun: samples,
      inKernel: {
        note: 'one extra run with BPF_ENABLE_STATS: probe CPU time over the workload cgroups\' CPU time (includes events of the rest of the machine)',
        probeCpuUs,
        workloadCpuUs,
        probeCpuSharePct: workloadCpuUs > 0 ? (probeCpuUs / workloadCpuUs) * 100 : null,
        statsFloorNsPerRun: floorNsPerRun,
        probeCpuUsNetOfStats: probeCpuUs - (runs * floorNsPerRun) / 1000,
        probeCpuShareNetOfStatsPct: workloadCpuUs > 0 ? ((probeCpuUs - (runs * floorNsPerRun) / 1000) / workloadCpuUs) * 100 : null,
        probeNsPerRequest: statsRequests > 0 ? (probeCpuUs * 1000) / statsRequests : null,
        programs: programCosts.filter((c) => c.runCount > 0).map((c) => ({ ...c, nsPerRun: c.runTimeNs / c.runCount })),
      },
      bars: { probesCostPctMax: 3, samplingExtraCostPctMax: 1 },
      pass: probesCostPct <= 3 && samplingExtraPct <= 1,
    };
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileAtomic(outFile, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`median rps: none ${Math.round(result.medianRps.none)}, all probes ${Math.round(result.medianRps.probes)}, all probes + ${sampleHz} Hz sampling ${Math.round(result.medianRps['probes+sampling'])}`);
    console.log(`median ratio to no probes: all probes ${result.medianRatio.probes.toFixed(4)} (cost ${probesCostPct.toFixed(2)} %, bar 3 %), + sampling ${result.medianRatio['probes+sampling'].toFixed(4)} (${samplingExtraPct.toFixed(2)} % more, bar 1 %)`);
    console.log(`empty programs on the same ${hooks.length} hooks (the kernel's dispatch floor): median ${Math.round(result.medianRps['empty-hooks'])} rps, cost ${floorCostPct.toFixed(2)} %; the probes' own work on top: ${(probesCostPct - floorCostPct).toFixed(2)} %`);
    console.log(`in-kernel: probes used ${(probeCpuUs / 1000).toFixed(1)} ms of CPU for ${(workloadCpuUs / 1000).toFixed(0)} ms of workload CPU (${result.inKernel.probeCpuSharePct?.toFixed(2) ?? '-'} %), ${result.inKernel.probeNsPerRequest?.toFixed(0) ?? '-'} ns per request`);
    console.log(`in-kernel net of the statistics' own ${floorNsPerRun.toFixed(0)} ns per run (calibrated on an empty program): ${result.inKernel.probeCpuShareNetOfStatsPct?.toFixed(2) ?? '-'} %`);
    for (const p of result.inKernel.programs) console.log(`  ${p.probe}/${p.program}: ${p.runCount} runs, ${p.nsPerRun.toFixed(0)} ns each, ${(p.runTimeNs / 1e6).toFixed(1)} ms`);
    console.log(`${result.pass ? 'PASS' : 'FAIL'}; written to ${outFile}`);
    if (!result.pass) process.exitCode = 1;
  } finally {
    if (server !== undefined) await stopProcess(server);
    for (const s of Object.values(sets)) s?.close();
    floor?.close();
    tree.remove(name);
    removeEmptyMeshbenchRoots();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:probes: ${describeError(err).line}`);
  process.exitCode = describeError(err).exitCode;
});
