import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../harness/atomicWrite';
import { describeError } from '../../harness/errors';
import { writeSyntheticRun } from '../../test/helpers/syntheticRun';
import { median } from './benchProcess';

/*
 * npm run bench:reports — is `meshbench report` fast enough for big runs? Generates a synthetic run of
 * 6 data planes × 5 load points × 5 repetitions (150 steps, with bulky folded stacks), then times, as
 * separate processes and interleaved: the peer (a process that only reads and parses every results
 * file) and `meshbench report` on the same folder. Bar: report < 10 s. Prints the ratio to the peer.
 */

const repoRoot = path.join(__dirname, '..', '..', '..');
const cli = path.join(repoRoot, 'dist', 'harness', 'cli.js');
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
const barSeconds = 10;

function timeProcess(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return ms;
}

function main(): void {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-bench-reports-'));
  try {
    const dir = path.join(tmp, 'run');
    const genStart = Date.now();
    writeSyntheticRun(dir, { runId: 'bench-reports', qps: [500, 1000, 2000, 4000, 0], connections: [16], repetitions: 5, samplesPerStep: 2000, stackVariety: 40 });
    const files = fs.readdirSync(path.join(dir, 'steps')).length;
    const bytes = fs.readdirSync(path.join(dir, 'steps')).reduce((a, f) => a + fs.statSync(path.join(dir, 'steps', f)).size, 0);
    process.stderr.write(`bench:reports: generated ${files} steps (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${Date.now() - genStart} ms\n`);
    const peerScript = `require(${JSON.stringify(path.join(repoRoot, 'dist', 'harness', 'results', 'resultsStore.js'))}).loadRun(${JSON.stringify(dir)})`;
    const peerMs: number[] = [];
    const reportMs: number[] = [];
    for (let i = 0; i < repetitions; i += 1) {
      peerMs.push(timeProcess(['-e', peerScript]));
      reportMs.push(timeProcess([cli, 'report', dir, '--quiet', '--output', path.join(tmp, `report-${i}`)]));
    }
    const report = median(reportMs);
    const peer = median(peerMs);
    const pass = report < barSeconds * 1000;
    const result = {
      when: new Date().toISOString(), steps: files, stepBytes: bytes, repetitions,
      reportMs: reportMs.map(Math.round), peerReadParseMs: peerMs.map(Math.round),
      medianReportMs: Math.round(report), medianPeerMs: Math.round(peer), ratio: report / peer, barSeconds, pass,
    };
    const outDir = path.join(repoRoot, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(path.join(outDir, `reports-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write([
      `meshbench report, 6 data planes × 5 load points × 5 repetitions (${files} steps):`,
      `  report            ${(report / 1000).toFixed(2)} s (median of ${repetitions}: ${reportMs.map((m) => (m / 1000).toFixed(2)).join(', ')})`,
      `  peer: read+parse  ${(peer / 1000).toFixed(2)} s (median of ${repetitions}: ${peerMs.map((m) => (m / 1000).toFixed(2)).join(', ')})`,
      `  ratio             ${(report / peer).toFixed(1)}× the peer`,
      `  bar               report < ${barSeconds} s: ${pass ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'));
    process.exitCode = pass ? 0 : 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench:reports: ${describeError(err).line}\n`);
  process.exitCode = 1;
}
