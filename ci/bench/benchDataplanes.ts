import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../harness/atomicWrite';
import { describeError, EnvironmentError } from '../../harness/errors';
import { cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { requireRoot } from '../../harness/platforms/netns/cluster';
import { EchoDeployment } from '../../harness/platforms/netns/echoDeployment';
import { dataPlaneNames, type DataPlaneName } from '../../harness/profile/profileSchema';
import { runLoadProcess } from '../../harness/runner/loadProcess';
import { median } from './benchProcess';
import type { Placement } from '../../harness/runner/platformSession';

/*
 * npm run bench:dataplanes — P50 latency per data plane at a fixed 1,000 QPS on the netns platform, printed
 * as a ratio to baseline, one run: three interleaved rounds, each data plane's ratio the median over rounds of
 * its P50 over the same round's baseline P50 (a shared machine's slow patches then cancel out). Bars: kernel within 10 % of baseline, sidecar clearly above both.
 * The talk's figures (../shared/seed/kmesh-kubecon-china-2024.txt) are printed beside ours as the reference:
 * Istio sidecar 25-35 % slower than baseline, ambient ~15 %, Kmesh kernel-native "almost the same as baseline",
 * Kmesh dual engine ~30 % faster than ambient (≈ 0.8× of ambient's 1.15). Each row also gives the connections
 * the path took (counted before the load), and the whole run is written to bench-results/dataplanes-<time>.json.
 * The client is pinned to CPU 0, the server and the proxies to the last CPU, so each data plane gets the
 * same CPUs and the client never competes with what it measures.
 */

const qps = Number(process.env.BENCH_QPS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 4);
const placement = (process.env.BENCH_PLACEMENT ?? 'cross-node') as Placement;
const only = process.env.BENCH_DATAPLANES?.split(',').filter((n): n is DataPlaneName => (dataPlaneNames as readonly string[]).includes(n));
const talk: Partial<Record<DataPlaneName, string>> = { baseline: '1', sidecar: '1.25-1.35', ambient: '~1.15', kernel: '~1.0', dual: '~0.8' };
const repoRoot = path.join(__dirname, '..', '..', '..');
const benchOrder: readonly DataPlaneName[] = ['baseline', 'kernel', 'dual', 'ambient', 'waypoint', 'sidecar'];

interface Sample {
  readonly p50Us: number | null;
  readonly p99Us: number | null;
  /** Null when the load client measured no rate (a 0 s window). */
  readonly achievedQps: number | null;
  readonly connectionsOnPath: number | null;
  readonly failed: number;
  readonly note: string;
}

interface Row {
  readonly dataplane: DataPlaneName;
  /** Medians over the rounds. */
  readonly p50Us: number | null;
  readonly p99Us: number | null;
  readonly achievedQps: number;
  readonly connectionsOnPath: number | null;
  readonly note: string;
  readonly samples: readonly Sample[];
}

async function measure(dataplane: DataPlaneName, cpus: { client: string; server: string; proxies: string }): Promise<Sample> {
  let d: EchoDeployment;
  try {
    d = await EchoDeployment.create({ dataplane, placement, cpus });
  } catch (err) {
    if (err instanceof EnvironmentError && /not available/.test(err.message)) return { p50Us: null, p99Us: null, achievedQps: 0, connectionsOnPath: null, failed: 0, note: 'not available in this build' };
    throw err;
  }
  try {
    const { connectionsOnPath } = await d.checkPath(2);
    const r = await runLoadProcess(d.clientPrefix(), {
      args: [d.targetUrl, '--qps', String(qps), '--connections', String(connections), '--duration', `${seconds}s`, '--warmup', '1s'],
      onMeasuring: () => undefined, onProgress: () => undefined, signal: new AbortController().signal,
    });
    return {
      p50Us: r.latency.percentilesUs['50'] ?? null, p99Us: r.latency.percentilesUs['99'] ?? null, achievedQps: r.actualQps,
      connectionsOnPath, failed: r.requestsFailed, note: '',
    };
  } finally {
    await d.destroy();
  }
}

function medianOf(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : median(v);
}

function aggregate(dataplane: DataPlaneName, samples: readonly Sample[]): Row {
  const failed = samples.reduce((a, s) => a + s.failed, 0);
  const conns = [...new Set(samples.map((s) => s.connectionsOnPath))];
  return {
    dataplane, samples,
    p50Us: medianOf(samples.map((s) => s.p50Us)),
    p99Us: medianOf(samples.map((s) => s.p99Us)),
    achievedQps: medianOf(samples.map((s) => s.achievedQps)) ?? 0,
    connectionsOnPath: conns.length === 1 ? conns[0] ?? null : null,
    note: [samples.find((s) => s.note !== '')?.note ?? '', failed > 0 ? `${failed} failed` : '', conns.length > 1 ? `connections varied: ${conns.join('/')}` : ''].filter((x) => x !== '').join('; '),
  };
}

async function main(): Promise<number> {
  requireRoot();
  const lastCpu = String(Math.max(0, os.cpus().length - 1));
  const cpus = { client: '0', server: lastCpu, proxies: lastCpu };
  // baseline first and kernel right after it: the pair the main bar compares runs back to back in each round.
  const chosen = only === undefined || only.length === 0 ? dataPlaneNames : only;
  const planes = benchOrder.filter((dp) => dp === 'baseline' || chosen.includes(dp));
  process.stderr.write(`bench:dataplanes: ${placement}, ${qps} QPS, ${connections} connections, ${rounds} rounds × ${seconds} s (+1 s warm-up) per data plane, interleaved, one run\n`);
  // Rounds interleave the data planes, so a slow patch of a shared machine hits all of them, not one.
  const samples = new Map<DataPlaneName, Sample[]>(planes.map((p) => [p, []]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const dp of planes) {
      const sample = await measure(dp, cpus);
      samples.get(dp)?.push(sample);
      process.stderr.write(`  round ${round}, ${dp}: ${sample.p50Us === null ? sample.note : `p50 ${sample.p50Us} µs, p99 ${sample.p99Us ?? '-'} µs, ${sample.connectionsOnPath ?? '-'} connection(s)`}\n`);
    }
  }
  const rows: Row[] = planes.map((dp) => aggregate(dp, samples.get(dp) ?? []));
  const baseSamples = samples.get('baseline') ?? [];
  if (medianOf(baseSamples.map((b) => b.p50Us)) === null) throw new EnvironmentError('baseline gave no latency');
  // A data plane's ratio is the median over rounds of its P50 over the baseline's P50 of the same round.
  const roundRatios = (dp: DataPlaneName): number[] => (samples.get(dp) ?? []).flatMap((smp, i) => {
    const b = baseSamples[i]?.p50Us ?? null;
    return smp.p50Us === null || b === null || b <= 0 ? [] : [smp.p50Us / b];
  });
  const ratio = (dp: DataPlaneName): number | null => medianOf(roundRatios(dp));
  const fmt = (us: number | null): string => (us === null ? '-' : `${(us / 1000).toFixed(3)} ms`);
  process.stdout.write(`\n${'data plane'.padEnd(11)} ${'conns'.padStart(5)} ${'P50'.padStart(10)} ${'P99'.padStart(10)} ${'QPS'.padStart(7)} ${'P50/baseline'.padStart(13)} ${'rounds'.padStart(13)}  talk       note\n`);
  for (const r of rows) {
    const rr = roundRatios(r.dataplane);
    const range = rr.length === 0 ? '-' : `${Math.min(...rr).toFixed(2)}-${Math.max(...rr).toFixed(2)}`;
    process.stdout.write(`${r.dataplane.padEnd(11)} ${String(r.connectionsOnPath ?? '-').padStart(5)} ${fmt(r.p50Us).padStart(10)} ${fmt(r.p99Us).padStart(10)} ${r.achievedQps.toFixed(0).padStart(7)} ${(ratio(r.dataplane)?.toFixed(3) ?? '-').padStart(13)} ${range.padStart(13)}  ${(talk[r.dataplane] ?? '').padEnd(10)} ${r.note}\n`);
  }
  const kernel = ratio('kernel');
  const sidecar = ratio('sidecar');
  const bars = [
    kernel === null ? 'kernel within 10 % of baseline: not measured (data plane not available)' : `kernel within 10 % of baseline: ${kernel <= 1.1 ? 'yes' : 'NO'} (${kernel.toFixed(3)})`,
    sidecar === null ? 'sidecar above baseline: not measured' : `sidecar clearly above baseline${kernel === null ? '' : ' and kernel'}: ${sidecar >= 1.1 && (kernel === null || sidecar > kernel * 1.1) ? 'yes' : 'NO'} (${sidecar.toFixed(3)})`,
  ];
  process.stdout.write(`\n${bars.join('\n')}\n`);
  const date = new Date().toISOString();
  const report = {
    benchmark: 'dataplanes', date,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', kernel: os.release(), node: process.version },
    settings: { placement, qps, seconds, rounds, warmupSeconds: 1, connections, cpus },
    rows: rows.map((r) => ({ ...r, p50VsBaseline: ratio(r.dataplane), p50VsBaselineByRound: roundRatios(r.dataplane), talk: talk[r.dataplane] ?? null })),
    bars,
  };
  const outDir = path.join(repoRoot, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `dataplanes-${date.replace(/[:.]/g, '-')}.json`);
  writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), file)}\n`);
  return bars.some((b) => /: NO/.test(b)) ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, async (err: unknown) => {
  process.stderr.write(`bench:dataplanes: ${describeError(err).line}\n`);
  await cleanupEverything().catch(() => undefined);
  process.exitCode = describeError(err).exitCode;
});
