import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeError } from '../../harness/errors';
import { writeFileAtomic } from '../../harness/atomicWrite';
import type { TimerPrecisionResult } from './timerPrecision';
import { median, requireTool, runPinned, runPinnedWithRusage, startPinned, stopProcess } from './benchProcess';
import { realtimeSafeNodeFlag } from '../../workloads/realtimeWait';

/*
 * npm run bench:workloads — are meshbench's workloads fast enough not to be the bottleneck?
 * 1. load generators against one nginx (Debian), same connections, each pinned to the same core:
 *    wrk, autocannon, meshbench load --qps 0; bars (issue 12): meshbench ≥ 0.8× wrk (goal 0.9×) and ≥ 1.5× autocannon.
 * 2. fixed rate (open loop) against the same nginx, each client pinned to the same core: meshbench load vs
 *    Debian's hey at 1,000 QPS × 4 connections and 10,000 QPS × 16 (hey's -q is per worker: -q 250 -c 4 is
 *    1,000 QPS), plus meshbench alone at 20 QPS × 1 for its send lag. Per process: CPU per request from its
 *    rusage (bash `times`, wait4), achieved rate; for meshbench its send-lag percentiles (from --json).
 *    Issue 12's bars: CPU per request ≤ 1.3× hey's; send lag p99 ≤ 100 µs (≤ 300 µs at 20 QPS); rate within 1 %.
 * 2b. timers alone (ci/bench/timerPrecision.ts, no network): the load loop's old timer (PreciseTimers + 200 µs
 *    spin), the pure-JS fallback (worker) and the timerfd, each under RateScheduler at 20, 1,000 and 10,000 QPS:
 *    release lateness p50/p99 and CPU per release.
 * 3. servers under the same wrk: nginx vs meshbench echo; bar: echo ≥ 0.6× nginx.
 * 4. HTTP/2 max throughput (issue 15): h2load (Debian's nghttp2-client) and meshbench load h2c:// against the
 *    same nginx (`listen … http2` on a cleartext port: h2c with prior knowledge), each pinned to the same core,
 *    same connections and streams (h2load -c C -m S, meshbench -c C --streams S); bar: meshbench ≥ 0.5× h2load.
 * 5. gRPC max throughput (issue 15): meshbench load grpc:// and a plain @grpc/grpc-js client loop
 *    (ci/bench/grpcJsLoop.ts) against the same meshbench echo --protocol grpc, same connections × streams;
 *    bar: meshbench ≥ 1.5× the grpc-js loop.
 * Runs are interleaved (ABCABC…) so drift hits every tool alike; the median per tool is reported. The load
 * average at the start and end is written with the results: the machine is shared, and a loaded one shows in
 * the send lag first. With both the fixed and timers sections, each send-lag p99 is also given as a ratio to
 * the floor: the timerfd's own release lateness p99 at that rate with no network (what the kernel's wake-up
 * lateness alone costs on this machine).
 * BENCH_SECTIONS=max,fixed,timers,servers,h2,grpc picks sections (all by default); BENCH_FIXED_SECONDS sets the
 * fixed-rate length; BENCH_H2_CONNECTIONS (2) and BENCH_H2_STREAMS (8) the HTTP/2 and gRPC sections' shape.
 */

const clientCpu = 0;
const serverCpu = 1;
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
const fixedSeconds = Number(process.env.BENCH_FIXED_SECONDS ?? 10);
/** meshbench's warm-up in the fixed-rate runs (JIT): its requests are counted for CPU, not for send lag. */
const fixedWarmupSeconds = 1;
const sections = new Set((process.env.BENCH_SECTIONS ?? 'max,fixed,timers,servers,h2,grpc').split(','));
const h2Connections = Number(process.env.BENCH_H2_CONNECTIONS ?? 2);
const h2Streams = Number(process.env.BENCH_H2_STREAMS ?? 8);
const nginxH2Port = 18482;
const grpcEchoPort = 18483;
/** The fixed-rate points: hey takes part where `hey` is true (at 20 QPS only meshbench's send lag is of interest). */
const fixedPoints = [
  { qps: 1000, connections: 4, hey: true },
  { qps: 10_000, connections: 16, hey: true },
  { qps: 20, connections: 1, hey: false },
] as const;
const nginxPort = 18480;
const echoPort = 18481;
const body = 'hello, world\n';
const repoRoot = path.join(__dirname, '..', '..', '..');
const cli = path.join(repoRoot, 'dist', 'harness', 'cli.js');

function nginxConfig(dir: string): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:${nginxPort} reuseport backlog=4096;
    location / { default_type application/octet-stream; return 200 "${body.replace('\n', '\\n')}"; }
  }
  # h2c with prior knowledge for the HTTP/2 section: the same reply, the same worker
  server {
    listen 127.0.0.1:${nginxH2Port} http2 reuseport backlog=4096;
    location / { default_type application/octet-stream; return 200 "${body.replace('\n', '\\n')}"; }
  }
}
`;
}

async function wrkRps(url: string): Promise<number> {
  const out = await runPinned(clientCpu, 'wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (m === null) throw new Error(`could not read wrk output: ${out}`);
  return Number(m[1]);
}

async function autocannonRps(url: string): Promise<number> {
  const bin = path.join(repoRoot, 'node_modules', '.bin', 'autocannon');
  const out = await runPinned(clientCpu, bin, ['-c', String(connections), '-d', String(seconds), '-j', url]);
  const r = JSON.parse(out) as { requests: { total: number }; duration: number };
  return r.requests.total / r.duration;
}

async function meshbenchRps(url: string, dir: string): Promise<number> {
  const file = path.join(dir, 'meshbench-load.json');
  await runPinned(clientCpu, process.execPath, [cli, 'load', url, '--qps', '0', '-c', String(connections), '-t', `${seconds}s`, '--quiet', '--json', file]);
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { actualQps: number }).actualQps;
}

/** h2load's "finished in …, N req/s" over `seconds` (h2load -D), C connections × S streams, one thread. */
async function h2loadRps(url: string): Promise<number> {
  const out = await runPinned(clientCpu, 'h2load', ['-t1', `-c${h2Connections}`, `-m${h2Streams}`, `-D${seconds}`, '--warm-up-time=1', url]);
  const m = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const failed = /requests: .* (\d+) failed/.exec(out);
  if (m === null) throw new Error(`could not read h2load output: ${out.slice(0, 400)}`);
  if (failed !== null && Number(failed[1]) > 0) throw new Error(`h2load: ${failed[1]} requests failed`);
  return Number(m[1]);
}

/** meshbench load in max mode over HTTP/2 or gRPC with the section's connections × streams; its answered req/s. */
async function meshbenchMuxRps(url: string, dir: string): Promise<number> {
  const file = path.join(dir, 'meshbench-mux.json');
  await runPinned(clientCpu, process.execPath, [cli, 'load', url, '--qps', '0', '-c', String(h2Connections), '--streams', String(h2Streams),
    '-t', `${seconds}s`, '--warmup', '1s', '--quiet', '--json', file]).catch((err: unknown) => {
    // A gRPC run exits 1 when a call failed; the result is still written, and checked below.
    if (!fs.existsSync(file)) throw err;
  });
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as { actualQps: number; requestsFailed: number; errorLatency: { count: number } };
  if (r.errorLatency.count > 0) throw new Error(`meshbench load ${url}: ${r.errorLatency.count} calls failed`);
  return r.actualQps;
}

/** The plain @grpc/grpc-js loop (grpcJsLoop.ts): calls per second after its own 1 s warm-up. */
async function grpcJsRps(hostPort: string): Promise<number> {
  const out = await runPinned(clientCpu, process.execPath, [path.join(__dirname, 'grpcJsLoop.js'), hostPort, String(h2Connections), String(h2Streams), String(seconds)]);
  const r = JSON.parse(out) as { callsPerSecond: number; errors: number };
  if (r.errors > 0) throw new Error(`grpc-js loop: ${r.errors} calls failed`);
  return r.callsPerSecond;
}

const timerKinds = ['precise', 'worker', 'timerfd'] as const;
const timerRates = [20, 1000, 10_000] as const;
const timerSeconds = 2;

/** Section 2b: every timer at every rate, interleaved per repetition; the median of each figure. */
async function timerSection(): Promise<Array<Omit<TimerPrecisionResult, 'releases'> & { repetitions: number }>> {
  const script = path.join(__dirname, 'timerPrecision.js');
  const runs = new Map<string, TimerPrecisionResult[]>();
  for (let rep = 0; rep < repetitions; rep += 1) {
    for (const qps of timerRates) {
      for (const kind of timerKinds) {
        const r = JSON.parse(await runPinned(clientCpu, process.execPath, [realtimeSafeNodeFlag, script, kind, String(qps), String(timerSeconds)])) as TimerPrecisionResult;
        runs.set(`${kind}/${qps}`, [...(runs.get(`${kind}/${qps}`) ?? []), r]);
      }
    }
    console.error(`timers, repetition ${rep + 1}/${repetitions} done`);
  }
  return [...runs.values()].map((rs) => {
    const first = rs[0] as TimerPrecisionResult;
    const med = (f: (r: TimerPrecisionResult) => number | null): number | null => (f(first) === null ? null : median(rs.map((r) => f(r) as number)));
    return {
      timer: first.timer, qps: first.qps, seconds: first.seconds, repetitions: rs.length,
      marginUs: med((r) => r.marginUs), peakLatenessUs: med((r) => r.peakLatenessUs), lagP50Us: med((r) => r.lagP50Us) as number, lagP99Us: med((r) => r.lagP99Us) as number,
      lagMaxUs: med((r) => r.lagMaxUs) as number, cpuPerReleaseUs: med((r) => r.cpuPerReleaseUs) as number,
      realtimeWait: [...new Set(rs.map((r) => r.realtimeWait))].join(', ') || null,
    };
  });
}

/** One fixed-rate run of one client. */
interface FixedRun {
  /** Requests answered over the whole process lifetime (meshbench: measured + warm-up; hey: all). */
  readonly requests: number;
  readonly achievedQps: number;
  /** User + system CPU of the whole process (µs), start-up included. */
  readonly cpuUs: number;
  /**
   * (cpuUs − the same tool's one-request run's CPU, measured in this bench) / requests: what each request costs once
   * the process is up. Node's start-up (~0.3 s of CPU) would otherwise add ~30 µs to each of 11,000 requests.
   */
  readonly cpuPerRequestUs: number;
  /** meshbench only: its send lag (µs) over the measured window. */
  readonly sendLagUs?: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
}

/** CPU (µs) of one process that sends a single request: start-up, calibration and exit, for the subtraction above. */
async function oneRequestCpuUs(tool: 'meshbench' | 'hey', url: string, dir: string): Promise<number> {
  const r = tool === 'hey'
    ? await runPinnedWithRusage(clientCpu, 'hey', ['-n', '1', '-c', '1', '-disable-compression', url])
    : await runPinnedWithRusage(clientCpu, process.execPath, [cli, 'load', url, '--qps', '1000', '-c', '1', '-n', '1', '--quiet', '--json', path.join(dir, 'one.json')]);
  return r.userUs + r.systemUs;
}

async function heyFixed(url: string, qps: number, conns: number, overheadUs: number): Promise<FixedRun> {
  const perWorker = qps / conns; // hey's -q is per worker
  const total = fixedSeconds + fixedWarmupSeconds;
  const r = await runPinnedWithRusage(clientCpu, 'hey', ['-z', `${total}s`, '-q', String(perWorker), '-c', String(conns), '-disable-compression', url]);
  const ok = /\[200\]\s+(\d+) responses/.exec(r.stdout);
  const secs = /Total:\s+([\d.]+) secs/.exec(r.stdout);
  if (ok === null || secs === null) throw new Error(`could not read hey output: ${r.stdout.slice(0, 400)}`);
  const requests = Number(ok[1]);
  const cpuUs = r.userUs + r.systemUs;
  return { requests, achievedQps: requests / Number(secs[1]), cpuUs, cpuPerRequestUs: (cpuUs - overheadUs) / requests };
}

async function meshbenchFixed(url: string, qps: number, conns: number, dir: string, overheadUs: number): Promise<FixedRun> {
  const file = path.join(dir, 'meshbench-fixed.json');
  const r = await runPinnedWithRusage(clientCpu, process.execPath, [realtimeSafeNodeFlag, cli, 'load', url, '--qps', String(qps), '-c', String(conns),
    '-t', `${fixedSeconds}s`, '--warmup', `${fixedWarmupSeconds}s`, '--quiet', '--json', file]);
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { actualQps: number; requestsCompleted: number; sendLag: { maxUs: number; percentilesUs: Record<string, number> } };
  // The open-loop schedule sends exactly ceil(qps × warm-up) requests before measuring starts (intended times k/qps).
  const requests = j.requestsCompleted + Math.ceil(qps * fixedWarmupSeconds);
  const p = j.sendLag.percentilesUs;
  const cpuUs = r.userUs + r.systemUs;
  return {
    requests,
    achievedQps: j.actualQps,
    cpuUs,
    cpuPerRequestUs: (cpuUs - overheadUs) / requests,
    sendLagUs: { p50: p['50'] ?? Number.NaN, p90: p['90'] ?? Number.NaN, p99: p['99'] ?? Number.NaN, p999: p['99.9'] ?? Number.NaN, max: j.sendLag.maxUs },
  };
}

/** Medians over repetitions of each FixedRun field. */
function medianRun(runs: readonly FixedRun[]): FixedRun {
  const lag = runs[0]?.sendLagUs;
  return {
    requests: median(runs.map((r) => r.requests)),
    achievedQps: median(runs.map((r) => r.achievedQps)),
    cpuUs: median(runs.map((r) => r.cpuUs)),
    cpuPerRequestUs: median(runs.map((r) => r.cpuPerRequestUs)),
    ...(lag === undefined ? {} : {
      sendLagUs: {
        p50: median(runs.map((r) => r.sendLagUs?.p50 ?? Number.NaN)),
        p90: median(runs.map((r) => r.sendLagUs?.p90 ?? Number.NaN)),
        p99: median(runs.map((r) => r.sendLagUs?.p99 ?? Number.NaN)),
        p999: median(runs.map((r) => r.sendLagUs?.p999 ?? Number.NaN)),
        max: median(runs.map((r) => r.sendLagUs?.max ?? Number.NaN)),
      },
    }),
  };
}

/** One fixed-rate point: every repetition of each client, their medians, and the ratios issue 12 sets bars on. */
interface FixedPointReport {
  readonly qps: number;
  readonly connections: number;
  readonly runs: { readonly meshbench: FixedRun[]; readonly hey: FixedRun[] | null };
  readonly medians: { readonly meshbench: FixedRun; readonly hey: FixedRun | null };
  /** meshbench CPU per request / hey's (null without hey at this point). */
  readonly cpuPerRequestVsHey: number | null;
  /** |achieved − asked| / asked for meshbench. */
  readonly rateError: number;
}

/** The fixed-rate section: each tool's one-request CPU (median of `repetitions`), then every point. */
async function fixedSection(url: string, dir: string): Promise<{ oneRequestCpuUs: { meshbench: number; hey: number }; points: FixedPointReport[] }> {
  const meshOne: number[] = [];
  const heyOne: number[] = [];
  for (let rep = 0; rep < repetitions; rep += 1) {
    meshOne.push(await oneRequestCpuUs('meshbench', url, dir));
    heyOne.push(await oneRequestCpuUs('hey', url, dir));
  }
  const oneRequest = { meshbench: median(meshOne), hey: median(heyOne) };
  console.error(`one-request process CPU (subtracted): meshbench ${(oneRequest.meshbench / 1000).toFixed(1)} ms, hey ${(oneRequest.hey / 1000).toFixed(1)} ms`);
  const points: FixedPointReport[] = [];
  for (const pt of fixedPoints) {
    const mesh: FixedRun[] = [];
    const hey: FixedRun[] = [];
    for (let rep = 0; rep < repetitions; rep += 1) {
      mesh.push(await meshbenchFixed(url, pt.qps, pt.connections, dir, oneRequest.meshbench));
      if (pt.hey) hey.push(await heyFixed(url, pt.qps, pt.connections, oneRequest.hey));
      const m = mesh.at(-1) as FixedRun;
      const h = hey.at(-1);
      console.error(`fixed ${pt.qps} QPS × ${pt.connections}, repetition ${rep + 1}/${repetitions}: meshbench ${m.cpuPerRequestUs.toFixed(1)} µs CPU/req, ${m.achievedQps.toFixed(1)} QPS, send lag p50 ${m.sendLagUs?.p50} p99 ${m.sendLagUs?.p99} µs` +
        (h === undefined ? '' : `; hey ${h.cpuPerRequestUs.toFixed(1)} µs CPU/req, ${h.achievedQps.toFixed(1)} QPS`));
    }
    const mm = medianRun(mesh);
    const hm = pt.hey ? medianRun(hey) : null;
    points.push({
      qps: pt.qps,
      connections: pt.connections,
      runs: { meshbench: mesh, hey: pt.hey ? hey : null },
      medians: { meshbench: mm, hey: hm },
      cpuPerRequestVsHey: hm === null ? null : mm.cpuPerRequestUs / hm.cpuPerRequestUs,
      rateError: Math.abs(mm.achievedQps - pt.qps) / pt.qps,
    });
  }
  return { oneRequestCpuUs: oneRequest, points };
}

/** Send-lag p99 of meshbench at each fixed point over the timerfd's lateness p99 alone at that rate (null without both). */
function lagOverFloor(points: readonly FixedPointReport[] | undefined, timers: ReadonlyArray<{ timer: string; qps: number; lagP99Us: number }> | null): Array<{ qps: number; connections: number; sendLagP99Us: number | null; floorP99Us: number | null; ratio: number | null }> {
  return (points ?? []).map((p) => {
    const lag = p.medians.meshbench.sendLagUs?.p99 ?? null;
    const floor = timers?.find((t) => t.timer === 'timerfd' && t.qps === p.qps)?.lagP99Us ?? null;
    return { qps: p.qps, connections: p.connections, sendLagP99Us: lag, floorP99Us: floor, ratio: lag === null || floor === null || floor <= 0 ? null : lag / floor };
  });
}

function fixedLines(points: readonly FixedPointReport[]): string[] {
  const lines = [`fixed rate → nginx, ${fixedSeconds} s (+${fixedWarmupSeconds} s warm-up) × ${repetitions}, client on CPU ${clientCpu} (medians; CPU per request from rusage, minus a one-request run's)`];
  for (const p of points) {
    const m = p.medians.meshbench;
    const h = p.medians.hey;
    const lag = m.sendLagUs;
    const lagBar = p.qps <= 20 ? 300 : 100;
    lines.push(`  ${String(p.qps).padStart(6)} QPS × ${String(p.connections).padEnd(2)}  meshbench ${m.cpuPerRequestUs.toFixed(1).padStart(6)} µs/req  ${m.achievedQps.toFixed(1).padStart(8)} QPS (${(p.rateError * 100).toFixed(2)} % off)` +
      `  send lag p50 ${lag?.p50} p99 ${lag?.p99} µs (bar p99 ≤ ${lagBar}) ${lag !== undefined && lag.p99 <= lagBar ? 'met' : 'MISSED'}`);
    if (h !== null && p.cpuPerRequestVsHey !== null) {
      lines.push(`  ${' '.repeat(17)}hey       ${h.cpuPerRequestUs.toFixed(1).padStart(6)} µs/req  ${h.achievedQps.toFixed(1).padStart(8)} QPS` +
        `   meshbench/hey CPU ${p.cpuPerRequestVsHey.toFixed(2)}× (bar ≤ 1.30) ${p.cpuPerRequestVsHey <= 1.3 ? 'met' : 'MISSED'}`);
    }
  }
  return lines;
}

async function main(): Promise<void> {
  requireTool('nginx', 'the reference server');
  requireTool('wrk', 'the reference load generator');
  if (sections.has('fixed')) requireTool('hey', 'the fixed-rate reference load generator');
  if (sections.has('h2')) requireTool('h2load', 'the HTTP/2 reference load generator (Debian nghttp2-client)');
  requireTool('taskset', 'pinning');
  if (os.cpus().length < 2) console.error('warning: fewer than 2 CPUs; client and server share a core');
  const loadAverageAtStart = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bench-'));
  const started: ChildProcess[] = [];
  try {
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir));
    started.push(await startPinned(serverCpu, 'nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], undefined, 500));
    const nginxUrl = `http://127.0.0.1:${nginxPort}/`;
    if (sections.has('max') || sections.has('fixed') || sections.has('servers')) await wrkRps(nginxUrl).catch(() => 0); // warm-up, and a check that nginx answers

    const clients: Record<string, number[]> = { wrk: [], autocannon: [], meshbench: [] };
    for (let rep = 0; rep < (sections.has('max') ? repetitions : 0); rep += 1) {
      clients.wrk?.push(await wrkRps(nginxUrl));
      clients.autocannon?.push(await autocannonRps(nginxUrl));
      clients.meshbench?.push(await meshbenchRps(nginxUrl, dir));
      console.error(`clients, repetition ${rep + 1}/${repetitions}: wrk ${clients.wrk?.at(-1)?.toFixed(0)}  autocannon ${clients.autocannon?.at(-1)?.toFixed(0)}  meshbench ${clients.meshbench?.at(-1)?.toFixed(0)} req/s`);
    }

    const fixedRate = sections.has('fixed') ? await fixedSection(nginxUrl, dir) : null;

    const timers = sections.has('timers') ? await timerSection() : null;

    const servers: Record<string, number[]> = { nginx: [], echo: [] };
    if (sections.has('servers')) {
      const echo = await startPinned(serverCpu, process.execPath, [cli, 'echo', '--port', String(echoPort), '--size', String(body.length)], /listening on/);
      started.push(echo);
      const echoUrl = `http://127.0.0.1:${echoPort}/`;
      await wrkRps(echoUrl); // JIT warm-up of the echo server
      for (let rep = 0; rep < repetitions; rep += 1) {
        servers.nginx?.push(await wrkRps(nginxUrl));
        servers.echo?.push(await wrkRps(echoUrl));
        console.error(`servers, repetition ${rep + 1}/${repetitions}: nginx ${servers.nginx?.at(-1)?.toFixed(0)}  meshbench echo ${servers.echo?.at(-1)?.toFixed(0)} req/s`);
      }
    }

    const mux: Record<string, number[]> = { h2load: [], meshbenchH2: [], grpcJs: [], meshbenchGrpc: [] };
    if (sections.has('h2')) {
      const h2Url = `http://127.0.0.1:${nginxH2Port}/`;
      const h2cUrl = `h2c://127.0.0.1:${nginxH2Port}/`;
      for (let rep = 0; rep < repetitions; rep += 1) {
        mux.h2load?.push(await h2loadRps(h2Url));
        mux.meshbenchH2?.push(await meshbenchMuxRps(h2cUrl, dir));
        console.error(`HTTP/2, repetition ${rep + 1}/${repetitions}: h2load ${mux.h2load?.at(-1)?.toFixed(0)}  meshbench ${mux.meshbenchH2?.at(-1)?.toFixed(0)} req/s`);
      }
    }
    if (sections.has('grpc')) {
      started.push(await startPinned(serverCpu, process.execPath, [cli, 'echo', '--protocol', 'grpc', '--port', String(grpcEchoPort)], /listening on/));
      const hostPort = `127.0.0.1:${grpcEchoPort}`;
      await grpcJsRps(hostPort); // JIT warm-up of the echo server
      for (let rep = 0; rep < repetitions; rep += 1) {
        mux.grpcJs?.push(await grpcJsRps(hostPort));
        mux.meshbenchGrpc?.push(await meshbenchMuxRps(`grpc://${hostPort}`, dir));
        console.error(`gRPC, repetition ${rep + 1}/${repetitions}: grpc-js loop ${mux.grpcJs?.at(-1)?.toFixed(0)}  meshbench ${mux.meshbenchGrpc?.at(-1)?.toFixed(0)} calls/s`);
      }
    }

    // A section not run has no figures: null, not 0 (median of nothing is NaN, which JSON would write as null anyway).
    const m = (xs: number[] | undefined): number => (xs === undefined || xs.length === 0 ? Number.NaN : median(xs));
    const ratios = {
      meshbenchVsWrk: m(clients.meshbench) / m(clients.wrk),
      meshbenchVsAutocannon: m(clients.meshbench) / m(clients.autocannon),
      echoVsNginx: m(servers.echo) / m(servers.nginx),
      meshbenchH2VsH2load: m(mux.meshbenchH2) / m(mux.h2load),
      meshbenchGrpcVsGrpcJs: m(mux.meshbenchGrpc) / m(mux.grpcJs),
    };
    const bars = { meshbenchVsWrk: 0.8, meshbenchVsAutocannon: 1.5, echoVsNginx: 0.6, meshbenchH2VsH2load: 0.5, meshbenchGrpcVsGrpcJs: 1.5 };
    const sendLagOverFloor = lagOverFloor(fixedRate?.points, timers);
    const loadAverage = { start: loadAverageAtStart, end: os.loadavg() };
    const report = {
      benchmark: 'workloads',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', kernel: os.release(), node: process.version },
      settings: { connections, seconds, repetitions, clientCpu, serverCpu, fixedSeconds, fixedWarmupSeconds, sections: [...sections], h2Connections, h2Streams },
      /** os.loadavg() (1, 5, 15 min) when the bench started and ended: other work on the machine. */
      loadAverage,
      requestsPerSecond: { clients, servers, multiplexed: mux },
      medians: {
        wrk: m(clients.wrk), autocannon: m(clients.autocannon), meshbench: m(clients.meshbench), nginx: m(servers.nginx), echo: m(servers.echo),
        h2load: m(mux.h2load), meshbenchH2: m(mux.meshbenchH2), grpcJs: m(mux.grpcJs), meshbenchGrpc: m(mux.meshbenchGrpc),
      },
      ratios,
      fixedRate,
      timers,
      sendLagOverFloor,
      bars,
      barsMet: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number.isNaN(v) ? null : v >= bars[k as keyof typeof bars]])),
    };
    const lines = [
      '',
      `load average (1/5/15 min): ${loadAverage.start.map((x) => x.toFixed(2)).join(' ')} at start, ${loadAverage.end.map((x) => x.toFixed(2)).join(' ')} at end`,
      ...(fixedRate === null ? [] : fixedLines(fixedRate.points)),
      ...sendLagOverFloor.filter((r) => r.ratio !== null).map((r) => `  send lag p99 at ${r.qps} QPS × ${r.connections}: ${r.sendLagP99Us} µs = ${(r.ratio as number).toFixed(2)}× the timerfd's own lateness p99 (${r.floorP99Us} µs, timers section)`),
      ...(timers === null ? [] : [
        `timers alone under RateScheduler, ${timerSeconds} s × ${repetitions} (medians): release lateness and CPU per release`,
        ...timers.map((t) => `  ${t.timer.padEnd(8)} ${String(t.qps).padStart(6)} QPS  margin ${t.marginUs === null ? '  — ' : String(t.marginUs).padStart(4)} µs (peak lateness ${t.peakLatenessUs === null ? '—' : t.peakLatenessUs} µs)  lateness p50 ${String(t.lagP50Us).padStart(5)} p99 ${String(t.lagP99Us).padStart(6)} µs  CPU ${t.cpuPerReleaseUs.toFixed(1).padStart(6)} µs/release${t.realtimeWait === null ? '' : `  SCHED_FIFO wait ${t.realtimeWait}`}`),
      ]),
      ...(!sections.has('max') ? [] : [
      `load generators → nginx, ${connections} connections, ${seconds} s × ${repetitions}, client on CPU ${clientCpu}, server on CPU ${serverCpu} (median req/s)`,
      `  wrk         ${report.medians.wrk.toFixed(0).padStart(9)}`,
      `  autocannon  ${report.medians.autocannon.toFixed(0).padStart(9)}`,
      `  meshbench   ${report.medians.meshbench.toFixed(0).padStart(9)}   ${ratios.meshbenchVsWrk.toFixed(2)}× wrk (bar ≥ 0.80, goal 0.90) ${ratios.meshbenchVsWrk >= 0.8 ? 'met' : 'MISSED'}, ${ratios.meshbenchVsAutocannon.toFixed(2)}× autocannon (bar ≥ 1.50) ${ratios.meshbenchVsAutocannon >= 1.5 ? 'met' : 'MISSED'}`]),
      ...(!sections.has('servers') ? [] : [
      `servers under wrk (median req/s)`,
      `  nginx       ${report.medians.nginx.toFixed(0).padStart(9)}`,
      `  echo        ${report.medians.echo.toFixed(0).padStart(9)}   ${ratios.echoVsNginx.toFixed(2)}× nginx (bar ≥ 0.60) ${ratios.echoVsNginx >= 0.6 ? 'met' : 'MISSED'}`]),
      ...(!sections.has('h2') ? [] : [
      `HTTP/2 max throughput → nginx h2c, ${h2Connections} connections × ${h2Streams} streams, ${seconds} s × ${repetitions}, client on CPU ${clientCpu}, server on CPU ${serverCpu} (median req/s)`,
      `  h2load      ${report.medians.h2load.toFixed(0).padStart(9)}`,
      `  meshbench   ${report.medians.meshbenchH2.toFixed(0).padStart(9)}   ${ratios.meshbenchH2VsH2load.toFixed(2)}× h2load (bar ≥ 0.50) ${ratios.meshbenchH2VsH2load >= 0.5 ? 'met' : 'MISSED'}`]),
      ...(!sections.has('grpc') ? [] : [
      `gRPC max throughput → meshbench echo --protocol grpc, ${h2Connections} connections × ${h2Streams} streams, ${seconds} s × ${repetitions} (median calls/s)`,
      `  grpc-js     ${report.medians.grpcJs.toFixed(0).padStart(9)}`,
      `  meshbench   ${report.medians.meshbenchGrpc.toFixed(0).padStart(9)}   ${ratios.meshbenchGrpcVsGrpcJs.toFixed(2)}× the grpc-js loop (bar ≥ 1.50) ${ratios.meshbenchGrpcVsGrpcJs >= 1.5 ? 'met' : 'MISSED'}`]),
    ];
    console.log(lines.join('\n'));
    const outDir = path.join(repoRoot, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `workloads-${report.date.replace(/[:.]/g, '-')}.json`);
    writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const p of started.reverse()) await stopProcess(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench:workloads: ${describeError(err).line}`);
  process.exitCode = 1;
});
