import { LatencyHistogram, reportedPercentiles } from '../../workloads/latencyHistogram';
import type { HistogramRecord, LoadResult } from '../../workloads/loadResult';
import { FortioHistogram } from '../../workloads/fortioHistogram';
import { profileSchema, type DataPlaneName, type Profile } from '../../harness/profile/profileSchema';
import type { EbpfCost } from '../../harness/resources/bpfCost';
import { resultsSchemaVersion, type ComponentInfo, type ComponentResources, type LoadPoint, type MachineInfo, type ProbeFigures, type RunRecord, type StepRecord } from '../../harness/results/resultTypes';
import { ResultsStore } from '../../harness/results/resultsStore';
import { summarise } from '../../harness/results/summarise';

/*
 * Realistic results folders without running a benchmark: the real record types, real HDR histograms,
 * folded stacks the attribution can classify, and costs shaped like the talk's claims (sidecar ~30 %
 * slower, ambient ~15 %, kernel ~2 %). Seeded, so a fixture generated twice is the same bytes.
 */

export interface SyntheticOptions {
  readonly runId: string;
  readonly profileName?: string;
  readonly dataplanes?: readonly DataPlaneName[];
  readonly qps?: readonly number[];
  readonly connections?: readonly number[];
  readonly placements?: ReadonlyArray<'same-node' | 'cross-node'>;
  readonly payloads?: readonly number[];
  readonly repetitions?: number;
  /** Latency samples recorded into each step's histogram. */
  readonly samplesPerStep?: number;
  /** Extra proxy work per request in the sidecar data plane, in µs ("slowed on purpose"). */
  readonly sidecarExtraUs?: number;
  readonly seed?: number;
  readonly hostname?: string;
  readonly cpuModel?: string;
  readonly withStacks?: boolean;
  readonly gates?: Profile['gates'];
  readonly startedAt?: string;
  /** Variants per folded stack line (distinct leaf frames), to make stacks as bulky as perf's; default 1. */
  readonly stackVariety?: number;
}

/** mulberry32, the one seeded generator meshbench uses (harness/results/stats/seededRandom.ts). */
import { seededRandom } from '../../harness/results/stats/seededRandom';

export { seededRandom };

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Latency factor over baseline and the proxies on the path, per data plane (the talk's shape). */
const shape: Record<DataPlaneName, { factor: number; proxies: ReadonlyArray<{ name: string; node: string; cpuUs: number }> }> = {
  baseline: { factor: 1, proxies: [] },
  sidecar: { factor: 1.32, proxies: [{ name: 'client-proxy', node: 'node1', cpuUs: 38 }, { name: 'server-proxy', node: 'node2', cpuUs: 36 }] },
  ambient: { factor: 1.15, proxies: [{ name: 'node1-proxy', node: 'node1', cpuUs: 22 }, { name: 'node2-proxy', node: 'node2', cpuUs: 21 }] },
  waypoint: { factor: 1.42, proxies: [{ name: 'node1-proxy', node: 'node1', cpuUs: 22 }, { name: 'waypoint', node: 'node2', cpuUs: 40 }, { name: 'node2-proxy', node: 'node2', cpuUs: 21 }] },
  kernel: { factor: 1.02, proxies: [] },
  dual: { factor: 1.2, proxies: [{ name: 'waypoint', node: 'node2', cpuUs: 34 }] },
};

const connectionsOnPath: Record<DataPlaneName, number> = { baseline: 1, sidecar: 3, ambient: 3, waypoint: 4, kernel: 1, dual: 2 };

function foldedStacks(role: 'client' | 'server' | 'proxy', samples: number, rand: () => number, variety = 1): string {
  const k = (f: string): string => `${f}_[k]`;
  const user = role === 'proxy' ? 'haproxy;run_poll_loop;process_stream;http_wait_for_request' : 'node;uv_run;uv__io_poll;node::StreamBase::ReadStart';
  const lines: Array<[string, number]> = [
    [`${user}`, 0.3],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__x64_sys_write')};${k('sock_write_iter')};${k('tcp_sendmsg')};${k('tcp_sendmsg_locked')};${k('_copy_from_iter')}`, 0.14],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__x64_sys_read')};${k('sock_read_iter')};${k('tcp_recvmsg')};${k('skb_copy_datagram_iter')};${k('_copy_to_iter')}`, 0.12],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__x64_sys_write')};${k('sock_write_iter')};${k('tcp_sendmsg')};${k('__tcp_push_pending_frames')};${k('tcp_write_xmit')};${k('ip_queue_xmit')};${k('__dev_queue_xmit')};${k('veth_xmit')}`, 0.16],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__x64_sys_epoll_wait')};${k('do_epoll_wait')};${k('schedule_hrtimeout_range')};${k('schedule')};${k('__schedule')}`, 0.12],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__x64_sys_epoll_ctl')};${k('do_epoll_ctl')}`, 0.06],
    [`${user};${k('entry_SYSCALL_64')};${k('do_syscall_64')};${k('__sys_connect')};${k('tcp_v4_connect')}`, role === 'proxy' ? 0.04 : 0.01],
    [`${user};${k('asm_common_interrupt')};${k('irq_exit_rcu')}`, 0.03],
  ];
  const out: string[] = [];
  for (const [stack, share] of lines) {
    for (let v = 0; v < variety; v += 1) {
      const leaf = variety === 1 ? '' : `;helper_${v}`;
      out.push(`${stack}${leaf} ${Math.max(1, Math.round((samples * share * (0.9 + 0.2 * rand())) / variety))}`);
    }
  }
  return out.join('\n');
}

function histogramRecord(values: readonly number[]): HistogramRecord {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return { ...h.summary(reportedPercentiles), histogram: h.encode() };
}

export interface SyntheticRun {
  readonly run: RunRecord;
  readonly steps: StepRecord[];
}

export function syntheticProfile(o: SyntheticOptions): Profile {
  return profileSchema.parse({
    name: o.profileName ?? 'synthetic',
    dataplanes: o.dataplanes ?? ['baseline', 'sidecar', 'ambient', 'waypoint', 'kernel', 'dual'],
    load: { qps: o.qps ?? [1000], connections: o.connections ?? [4] },
    placement: o.placements ?? ['cross-node'],
    workload: { payloadBytes: o.payloads ?? [0] },
    duration: '10s',
    repetitions: o.repetitions ?? 3,
    probes: { sampleHz: o.withStacks === false ? 0 : 99 },
    gates: o.gates ?? { 'latency.p99': '+5%', 'latency.p50': '+5%', 'cpu.perRequest': '+5%', 'throughput.max': '-5%' },
  });
}

/** A whole run in memory: interleaved steps (rep 1: every data plane × load point, rep 2: …). */
export function syntheticRun(o: SyntheticOptions): SyntheticRun {
  const rand = seededRandom(o.seed ?? 1);
  const profile = syntheticProfile(o);
  const samples = o.samplesPerStep ?? 1000;
  const machine: MachineInfo = { hostname: o.hostname ?? 'bench-host', kernel: '6.18.0', cpuModel: o.cpuModel ?? 'Synthetic CPU @ 3.0GHz', cpus: 2, memoryBytes: 8 * 2 ** 30, node: 'v20.20.2', platform: 'linux-x64' };
  const points: Array<LoadPoint & { placement: 'same-node' | 'cross-node' }> = [];
  for (const placement of profile.placement) for (const payloadBytes of profile.workload.payloadBytes) for (const c of profile.load.connections) for (const q of profile.load.qps) points.push({ qps: q, connections: c, payloadBytes, keepAlive: true, protocol: 'http', placement });
  const started = Date.parse(o.startedAt ?? '2026-11-25T06:00:00Z');
  const steps: StepRecord[] = [];
  let index = 1;
  for (let rep = 1; rep <= (o.repetitions ?? 3); rep += 1) {
    const drift = 1 + 0.02 * gaussian(rand); // slow machine drift hits every data plane of a repetition alike
    for (const point of points) {
      for (const dp of profile.dataplanes) {
        const sh = shape[dp];
        const slowUs = dp === 'sidecar' ? (o.sidecarExtraUs ?? 0) : 0;
        const maxMode = point.qps === 0;
        const loadFactor = maxMode ? 1.8 : 1 + Math.min(point.qps / 20000, 0.6) + point.connections / 400;
        const baseP50Us = (point.placement === 'same-node' ? 120 : 180) * (1 + point.payloadBytes / 20000) * loadFactor * drift;
        const p50Us = baseP50Us * sh.factor + slowUs * 2 * sh.proxies.length / 2;
        const values: number[] = [];
        for (let i = 0; i < samples; i += 1) values.push(p50Us * Math.exp(0.3 * gaussian(rand)) * (rand() < 0.002 ? 3 : 1));
        const latency = histogramRecord(values);
        const serviceTime = latency;
        const sendLag = histogramRecord(values.map(() => 3 + 4 * rand()));
        const actualQps = maxMode ? (point.connections * 1e6) / p50Us * (0.97 + 0.03 * rand()) : point.qps * (0.998 + 0.002 * rand());
        const requests = Math.round(actualQps * 10);
        const bpf = dp === 'kernel' || dp === 'dual';
        const components: ComponentInfo[] = [
          { name: 'client', role: 'client', node: 'node1', cgroupId: String(1000 + index) },
          { name: 'server', role: 'server', node: 'node2', cgroupId: String(2000 + index) },
          ...sh.proxies.map((p, i) => ({ name: p.name, role: 'proxy' as const, node: p.node, cgroupId: String(3000 + index * 10 + i) })),
        ];
        // The eBPF data plane's programs run inside the client's and server's system calls: the runner lists
        // their cost as a `dataplane` component without a cgroup, beside (never added to) the others.
        const ebpf: EbpfCost | null = bpf ? {
          programs: 3, maps: 2, runCount: requests * 4, runTimeNs: requests * 1800 * (0.95 + 0.1 * rand()), runTimeUsPerRequest: 1.8 * (0.95 + 0.1 * rand()),
          mapMemoryBytes: 270_336, runTimeSource: 'bpf_stats',
        } : null;
        const cpuFor = (c: ComponentInfo): number => {
          const base = c.role === 'client' ? 26 : c.role === 'server' ? 21 : (sh.proxies.find((p) => p.name === c.name)?.cpuUs ?? 0) + slowUs;
          const kernelDiscount = dp === 'kernel' && c.role === 'server' ? 0.95 : 1;
          return base * kernelDiscount * drift * (0.98 + 0.04 * rand());
        };
        const resources: Record<string, ComponentResources> = {};
        const figures: Record<string, ProbeFigures> = {};
        const stacks: Record<string, string> = {};
        for (const c of components) {
          const cpuUsPerRequest = cpuFor(c);
          const total = cpuUsPerRequest * requests;
          const rss = (c.role === 'proxy' ? 38 : 52) * 2 ** 20 * (1 + 0.03 * rand());
          resources[c.name] = {
            cpuUserUs: total * 0.4, cpuSystemUs: total * 0.6, cpuTotalUs: total, cpuUsPerRequest,
            cpuCores: total / 10e6, memoryRssBytesAvg: Math.round(rss * 0.95), memoryRssBytesPeak: Math.round(rss), samples: 100,
          };
          const hops = c.role === 'proxy' ? 2 : 1;
          figures[c.name] = {
            bytesSent: requests * 120 * hops, bytesReceived: requests * 120 * hops,
            connectionsOpened: c.role === 'client' ? point.connections : c.role === 'proxy' ? point.connections : 0,
            connectionsAccepted: c.role === 'client' ? 0 : point.connections,
            contextSwitchesVoluntary: Math.round(requests * hops * (0.9 + 0.2 * rand())),
            contextSwitchesInvoluntary: Math.round(requests * 0.05 * hops),
            syscalls: requests * 4 * hops,
            onCpuUs: total,
          };
          if (o.withStacks !== false) stacks[c.name] = foldedStacks(c.role === 'dataplane' ? 'proxy' : c.role, Math.round(cpuUsPerRequest * 30), rand, o.stackVariety);
        }
        if (ebpf !== null) {
          components.push({ name: 'ebpf-dataplane', role: 'dataplane', node: null, cgroupId: null });
          const runUs = (ebpf.runTimeNs ?? 0) / 1000;
          resources['ebpf-dataplane'] = { cpuUserUs: 0, cpuSystemUs: runUs, cpuTotalUs: runUs, cpuUsPerRequest: ebpf.runTimeUsPerRequest, cpuCores: runUs / 10e6, memoryRssBytesAvg: ebpf.mapMemoryBytes, memoryRssBytesPeak: ebpf.mapMemoryBytes, samples: 1 };
        }
        const stepStart = new Date(started + index * 12_000).toISOString();
        const load: LoadResult = {
          schemaVersion: 1, tool: 'meshbench', version: '0.1.0', startTime: stepStart,
          labels: `${profile.name} ${dp}`,
          options: {
            url: 'http://198.18.1.10:8080/', protocol: 'http', mode: maxMode ? 'max' : 'fixed-rate', qps: point.qps, connections: point.connections,
            durationUs: 10e6, requests: null, warmupUs: 1e6, payloadBytes: point.payloadBytes, keepAlive: true, timeoutUs: 5e6, headers: [],
            maxPending: Math.max(point.connections, point.qps * 5), drainUs: 500_000,
          },
          actualDurationUs: 10e6, requestsCompleted: requests, requestsFailed: 0, actualQps, latency, serviceTime, sendLag,
          statusCounts: { 200: requests }, errorsByKind: {}, socketsOpened: point.connections,
          bytesSent: requests * 100, bytesReceived: requests * 120, requestsUnsent: 0,
          errorLatency: histogramRecord([]), successLatency: latency, requestsInFlightAtEnd: 0, requestsOverflowed: 0,
          responseBytes: sizes(requests, 120), headerBytes: sizes(requests, 100),
          requestsPerConnection: spread(requests, point.connections), socketsPerConnection: spread(point.connections, point.connections),
        };
        const id = `${dp}-${point.placement}-q${point.qps}-c${point.connections}-p${point.payloadBytes}-r${rep}`;
        steps.push({
          schemaVersion: resultsSchemaVersion, kind: 'meshbench-step', index, id, dataplane: dp, placement: point.placement,
          loadPoint: { qps: point.qps, connections: point.connections, payloadBytes: point.payloadBytes, keepAlive: point.keepAlive, protocol: point.protocol }, repetition: rep, startedAt: stepStart, endedAt: new Date(started + index * 12_000 + 11_000).toISOString(),
          components, load, resources,
          probes: { available: true, unavailableReason: null, figures, detail: {}, foldedStacks: stacks },
          connectionsOnPath: connectionsOnPath[dp],
          ebpf,
        });
        index += 1;
      }
    }
  }
  const run: RunRecord = {
    schemaVersion: resultsSchemaVersion, kind: 'meshbench-run', runId: o.runId, status: 'complete', statusReason: null,
    startedAt: new Date(started).toISOString(), endedAt: new Date(started + index * 12_000).toISOString(),
    profile: { name: profile.name, file: `profiles/${profile.name}.yaml`, hash: `synthetic-${profile.name}`, resolved: profile },
    machine, versions: { meshbench: '0.1.0', node: 'v20.20.2', haproxy: '2.6.12', gitCommit: o.runId },
    stepsPlanned: steps.length, stepsCompleted: steps.length, dataplanesSkipped: [],
  };
  return { run, steps };
}

/** Writes a synthetic run as the runner would: run.json, steps/, summary.json. */
export function writeSyntheticRun(dir: string, o: SyntheticOptions): SyntheticRun {
  const r = syntheticRun(o);
  const store = ResultsStore.create(dir);
  store.writeRun(r.run);
  for (const s of r.steps) store.writeStep(s);
  store.writeSummary(summarise(r.run.runId, 'complete', r.steps));
  return r;
}

/** fortio's size histogram of `n` responses of `bytes` each. */
function sizes(n: number, bytes: number): ReturnType<FortioHistogram['export']> {
  const h = new FortioHistogram(0, 100);
  if (n > 0) h.record(bytes, n);
  return h.export();
}

/** `total` spread over `parts` as evenly as integers allow (the load client's per-connection schedule). */
function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
