import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describeError } from '../../harness/errors';
import { writeFileAtomic } from '../../harness/atomicWrite';
import { median, requireTool, runPinned, startPinned, stopProcess } from './benchProcess';

/*
 * npm run bench:workloads — are meshbench's workloads fast enough not to be the bottleneck?
 * 1. load generators against one nginx (Debian), same connections, each pinned to the same core:
 *    wrk, autocannon, meshbench load --qps 0; bars: meshbench ≥ 0.7× wrk and ≥ 1.5× autocannon.
 * 2. servers under the same wrk: nginx vs meshbench echo; bar: echo ≥ 0.6× nginx.
 * Runs are interleaved (ABCABC…) so drift hits every tool alike; the median per tool is reported.
 */

const clientCpu = 0;
const serverCpu = 1;
const connections = Number(process.env.BENCH_CONNECTIONS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
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

async function main(): Promise<void> {
  requireTool('nginx', 'the reference server');
  requireTool('wrk', 'the reference load generator');
  requireTool('taskset', 'pinning');
  if (os.cpus().length < 2) console.error('warning: fewer than 2 CPUs; client and server share a core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bench-'));
  const started: ChildProcess[] = [];
  try {
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir));
    started.push(await startPinned(serverCpu, 'nginx', ['-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], undefined, 500));
    const nginxUrl = `http://127.0.0.1:${nginxPort}/`;
    await wrkRps(nginxUrl).catch(() => 0); // warm-up, and a check that nginx answers

    const clients: Record<string, number[]> = { wrk: [], autocannon: [], meshbench: [] };
    for (let rep = 0; rep < repetitions; rep += 1) {
      clients.wrk?.push(await wrkRps(nginxUrl));
      clients.autocannon?.push(await autocannonRps(nginxUrl));
      clients.meshbench?.push(await meshbenchRps(nginxUrl, dir));
      console.error(`clients, repetition ${rep + 1}/${repetitions}: wrk ${clients.wrk?.at(-1)?.toFixed(0)}  autocannon ${clients.autocannon?.at(-1)?.toFixed(0)}  meshbench ${clients.meshbench?.at(-1)?.toFixed(0)} req/s`);
    }

    const echo = await startPinned(serverCpu, process.execPath, [cli, 'echo', '--port', String(echoPort), '--size', String(body.length)], /listening on/);
    started.push(echo);
    const echoUrl = `http://127.0.0.1:${echoPort}/`;
    const servers: Record<string, number[]> = { nginx: [], echo: [] };
    await wrkRps(echoUrl); // JIT warm-up of the echo server
    for (let rep = 0; rep < repetitions; rep += 1) {
      servers.nginx?.push(await wrkRps(nginxUrl));
      servers.echo?.push(await wrkRps(echoUrl));
      console.error(`servers, repetition ${rep + 1}/${repetitions}: nginx ${servers.nginx?.at(-1)?.toFixed(0)}  meshbench echo ${servers.echo?.at(-1)?.toFixed(0)} req/s`);
    }

    const m = (xs: number[] | undefined): number => median(xs ?? []);
    const ratios = {
      meshbenchVsWrk: m(clients.meshbench) / m(clients.wrk),
      meshbenchVsAutocannon: m(clients.meshbench) / m(clients.autocannon),
      echoVsNginx: m(servers.echo) / m(servers.nginx),
    };
    const bars = { meshbenchVsWrk: 0.7, meshbenchVsAutocannon: 1.5, echoVsNginx: 0.6 };
    const report = {
      benchmark: 'workloads',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', kernel: os.release(), node: process.version },
      settings: { connections, seconds, repetitions, clientCpu, serverCpu },
      requestsPerSecond: { clients, servers },
      medians: { wrk: m(clients.wrk), autocannon: m(clients.autocannon), meshbench: m(clients.meshbench), nginx: m(servers.nginx), echo: m(servers.echo) },
      ratios,
      bars,
      barsMet: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, v >= bars[k as keyof typeof bars]])),
    };
    const lines = [
      '',
      `load generators → nginx, ${connections} connections, ${seconds} s × ${repetitions}, client on CPU ${clientCpu}, server on CPU ${serverCpu} (median req/s)`,
      `  wrk         ${report.medians.wrk.toFixed(0).padStart(9)}`,
      `  autocannon  ${report.medians.autocannon.toFixed(0).padStart(9)}`,
      `  meshbench   ${report.medians.meshbench.toFixed(0).padStart(9)}   ${ratios.meshbenchVsWrk.toFixed(2)}× wrk (bar ≥ 0.70) ${ratios.meshbenchVsWrk >= 0.7 ? 'met' : 'MISSED'}, ${ratios.meshbenchVsAutocannon.toFixed(2)}× autocannon (bar ≥ 1.50) ${ratios.meshbenchVsAutocannon >= 1.5 ? 'met' : 'MISSED'}`,
      `servers under wrk (median req/s)`,
      `  nginx       ${report.medians.nginx.toFixed(0).padStart(9)}`,
      `  echo        ${report.medians.echo.toFixed(0).padStart(9)}   ${ratios.echoVsNginx.toFixed(2)}× nginx (bar ≥ 0.60) ${ratios.echoVsNginx >= 0.6 ? 'met' : 'MISSED'}`,
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
