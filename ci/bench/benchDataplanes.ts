import { describeError, EnvironmentError } from '../../harness/errors';
import { cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { requireRoot } from '../../harness/platforms/netns/cluster';
import { EchoDeployment } from '../../harness/platforms/netns/echoDeployment';
import { dataPlaneNames, type DataPlaneName } from '../../harness/profile/profileSchema';
import { runLoadProcess } from '../../harness/runner/loadProcess';
import type { Placement } from '../../harness/runner/platformSession';

/*
 * npm run bench:dataplanes — P50 latency per data plane at a fixed 1,000 QPS on the netns platform, printed
 * as a ratio to baseline, one run. Bars: kernel within 10 % of baseline, sidecar clearly above both.
 * The talk's figures are printed beside ours as the reference (sidecar +25-35 %, ambient ~+15 %, kernel ≈ 0).
 * The client is pinned to CPU 0, the server and the proxies to the last CPU, so each data plane gets the
 * same CPUs and the client never competes with what it measures.
 */

const qps = Number(process.env.BENCH_QPS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 4);
const placement = (process.env.BENCH_PLACEMENT ?? 'cross-node') as Placement;
const talk: Partial<Record<DataPlaneName, string>> = { sidecar: '1.25-1.35', ambient: '~1.15', kernel: '~1.0' };

interface Row {
  readonly dataplane: DataPlaneName;
  readonly p50Us: number | null;
  readonly p99Us: number | null;
  readonly achievedQps: number;
  readonly note: string;
}

async function measure(dataplane: DataPlaneName, cpus: { client: string; server: string; proxies: string }): Promise<Row> {
  let d: EchoDeployment;
  try {
    d = await EchoDeployment.create({ dataplane, placement, cpus });
  } catch (err) {
    if (err instanceof EnvironmentError && /not available/.test(err.message)) return { dataplane, p50Us: null, p99Us: null, achievedQps: 0, note: 'not available in this build' };
    throw err;
  }
  try {
    const r = await runLoadProcess(d.clientPrefix(), {
      args: [d.targetUrl, '--qps', String(qps), '--connections', String(connections), '--duration', `${seconds}s`, '--warmup', '1s'],
      onMeasuring: () => undefined, onProgress: () => undefined, signal: new AbortController().signal,
    });
    const failed = r.requestsFailed > 0 ? `${r.requestsFailed} failed` : '';
    return { dataplane, p50Us: r.latency.percentilesUs['50'] ?? null, p99Us: r.latency.percentilesUs['99'] ?? null, achievedQps: r.actualQps, note: failed };
  } finally {
    await d.destroy();
  }
}

async function main(): Promise<number> {
  requireRoot();
  const lastCpu = String(Math.max(0, (await import('node:os')).cpus().length - 1));
  const cpus = { client: '0', server: lastCpu, proxies: lastCpu };
  process.stderr.write(`bench:dataplanes: ${placement}, ${qps} QPS, ${connections} connections, ${seconds} s (+1 s warm-up) per data plane, one run\n`);
  const rows: Row[] = [];
  for (const dp of dataPlaneNames) {
    rows.push(await measure(dp, cpus));
    const last = rows.at(-1);
    if (last !== undefined) process.stderr.write(`  ${dp}: ${last.p50Us === null ? last.note : `p50 ${last.p50Us} µs`}\n`);
  }
  const base = rows.find((r) => r.dataplane === 'baseline')?.p50Us ?? null;
  if (base === null || base <= 0) throw new EnvironmentError('baseline gave no latency');
  const fmt = (us: number | null): string => (us === null ? '-' : `${(us / 1000).toFixed(3)} ms`);
  process.stdout.write(`\n${'data plane'.padEnd(11)} ${'P50'.padStart(10)} ${'P99'.padStart(10)} ${'QPS'.padStart(7)} ${'P50/baseline'.padStart(13)}  talk    note\n`);
  for (const r of rows) {
    const ratio = r.p50Us === null ? '-' : (r.p50Us / base).toFixed(3);
    process.stdout.write(`${r.dataplane.padEnd(11)} ${fmt(r.p50Us).padStart(10)} ${fmt(r.p99Us).padStart(10)} ${r.achievedQps.toFixed(0).padStart(7)} ${ratio.padStart(13)}  ${(talk[r.dataplane] ?? '').padEnd(7)} ${r.note}\n`);
  }
  const ratio = (dp: DataPlaneName): number | null => {
    const p = rows.find((r) => r.dataplane === dp)?.p50Us ?? null;
    return p === null ? null : p / base;
  };
  const kernel = ratio('kernel');
  const sidecar = ratio('sidecar');
  const bars = [
    kernel === null ? 'kernel within 10 % of baseline: not measured (data plane not available)' : `kernel within 10 % of baseline: ${kernel <= 1.1 ? 'yes' : 'NO'} (${kernel.toFixed(3)})`,
    sidecar === null ? 'sidecar above baseline: not measured' : `sidecar clearly above baseline${kernel === null ? '' : ' and kernel'}: ${sidecar >= 1.1 && (kernel === null || sidecar > kernel * 1.1) ? 'yes' : 'NO'} (${sidecar.toFixed(3)})`,
  ];
  process.stdout.write(`\n${bars.join('\n')}\n`);
  return bars.some((b) => /: NO/.test(b)) ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, async (err: unknown) => {
  process.stderr.write(`bench:dataplanes: ${describeError(err).line}\n`);
  await cleanupEverything().catch(() => undefined);
  process.exitCode = describeError(err).exitCode;
});
