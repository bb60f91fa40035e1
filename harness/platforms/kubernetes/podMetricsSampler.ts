import type { PodMetric } from '@kubernetes/client-node';
import type { ComponentResources } from '../../results/resultTypes';
import type { ResourceSampling } from '../../runner/platformSession';
import type { ComponentSource } from './enrolmentCheck';
import type { KubeApi } from './kubeClient';

/*
 * CPU and memory per component from the resource metrics API (metrics.k8s.io, served by metrics-server):
 * each PodMetrics item gives, per container, the CPU rate averaged over `window` ending at `timestamp` and
 * the memory working set. The sampler reads it through the load window; the summary keeps the samples
 * whose averaging window ends inside the window with the trim removed at both ends (warm-up is already
 * outside: sampling starts when the load client reports that measuring began).
 */

export interface MetricSample {
  readonly timestampMs: number;
  readonly windowMs: number;
  readonly cpuNanoCores: number;
  readonly memoryBytes: number;
}

/** "250m", "123456n", "1500u", "2" → nanocores. */
export function parseCpuNanoCores(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?\d+)?)([numk]?)$/.exec(q.trim());
  if (m === null) return Number.NaN;
  const scale: Record<string, number> = { n: 1, u: 1e3, m: 1e6, '': 1e9, k: 1e12 };
  return Number(m[1]) * (scale[m[2] ?? ''] ?? Number.NaN);
}

/** "1024Ki", "100Mi", "1G", "12345" → bytes. */
export function parseBytes(q: string): number {
  const m = /^([0-9.]+(?:e[+-]?\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|m)?$/.exec(q.trim());
  if (m === null) return Number.NaN;
  const scale: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12, m: 1e-3 };
  return Number(m[1]) * (scale[m[2] ?? ''] ?? Number.NaN);
}

/** "15s", "1m0.5s", "10.2s", "500ms" (metav1.Duration, Go's format) → ms. */
export function parseGoDurationMs(text: string): number {
  let total = 0;
  const re = /([0-9.]+)(h|m(?!s)|s|ms|us|µs|ns)/g;
  let matched = false;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    matched = true;
    const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
    total += Number(m[1]) * (unit[m[2] ?? ''] ?? 0);
  }
  return matched ? total : Number.NaN;
}

/** Pure: one component's samples → the figures of the window [start+trim, end-trim]. */
export function summariseMetricSamples(samples: readonly MetricSample[], startMs: number, endMs: number, trimMs: number, requests: number): ComponentResources {
  const from = startMs + trimMs;
  const to = Math.max(from, endMs - trimMs);
  const distinct = [...new Map(samples.map((s) => [s.timestampMs, s])).values()].sort((a, b) => a.timestampMs - b.timestampMs);
  let kept = distinct.filter((s) => s.timestampMs >= from && s.timestampMs <= to);
  // Shorter than the metrics resolution: use the samples whose averaging window overlaps the load.
  if (kept.length === 0) kept = distinct.filter((s) => s.timestampMs > startMs && s.timestampMs - s.windowMs < endMs);
  if (kept.length === 0) {
    return { cpuUserUs: 0, cpuSystemUs: 0, cpuTotalUs: 0, cpuUsPerRequest: null, cpuCores: 0, memoryRssBytesAvg: null, memoryRssBytesPeak: null, samples: 0 };
  }
  const cpuCores = kept.reduce((a, s) => a + s.cpuNanoCores, 0) / kept.length / 1e9;
  const wallUs = (to - from) * 1000;
  const cpuTotalUs = cpuCores * wallUs;
  const keptRequests = requests * ((to - from) / Math.max(1, endMs - startMs));
  const memory = kept.map((s) => s.memoryBytes);
  return {
    // The metrics API gives one CPU rate: it is reported as user time (system time is not separated).
    cpuUserUs: cpuTotalUs,
    cpuSystemUs: 0,
    cpuTotalUs,
    cpuUsPerRequest: keptRequests > 0 ? cpuTotalUs / keptRequests : null,
    cpuCores,
    memoryRssBytesAvg: memory.reduce((a, b) => a + b, 0) / memory.length,
    memoryRssBytesPeak: Math.max(...memory),
    samples: kept.length,
  };
}

/** Pure: the sample of one component in one PodMetrics list, or undefined when none of its pods is listed. */
export function sampleOf(source: ComponentSource, podNames: readonly string[], items: readonly PodMetric[]): MetricSample | undefined {
  const pods = items.filter((m) => m.metadata.namespace === source.namespace && podNames.includes(m.metadata.name));
  if (pods.length === 0) return undefined;
  let cpu = 0;
  let memory = 0;
  for (const p of pods) {
    for (const c of p.containers) {
      if (source.containers !== null && !source.containers.includes(c.name)) continue;
      if (source.excludeContainers?.includes(c.name) === true) continue;
      cpu += parseCpuNanoCores(c.usage.cpu);
      memory += parseBytes(c.usage.memory);
    }
  }
  const first = pods[0] as PodMetric;
  return { timestampMs: Math.max(...pods.map((p) => Date.parse(p.timestamp))), windowMs: parseGoDurationMs(first.window), cpuNanoCores: cpu, memoryBytes: memory };
}

export class PodMetricsSampler implements ResourceSampling {
  private readonly series = new Map<string, MetricSample[]>();
  private podNames = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;
  private startMs = 0;
  private polling: Promise<void> = Promise.resolve();
  private lastError: unknown;

  constructor(private readonly api: KubeApi, private readonly sources: readonly ComponentSource[], private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  start(): void {
    this.startMs = this.now();
    this.polling = this.resolvePods().then(() => this.poll());
    this.timer = setInterval(() => { this.polling = this.polling.then(() => this.poll()); }, this.intervalMs);
    this.timer.unref();
  }

  async stop(requests: number, trimUs: number): Promise<Record<string, ComponentResources>> {
    // Never started (the load client's "measuring" event was not seen): no window, so no figures.
    if (this.timer === undefined) return {};
    const endMs = this.now();
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.polling;
    await this.poll();
    const out: Record<string, ComponentResources> = {};
    for (const s of this.sources) out[s.name] = summariseMetricSamples(this.series.get(s.name) ?? [], this.startMs, endMs, trimUs / 1000, requests);
    return out;
  }

  /** Why sampling failed, if it did (the step still records its latency). */
  error(): unknown { return this.lastError; }

  private async resolvePods(): Promise<void> {
    for (const s of this.sources) {
      if (s.podSelector.startsWith('metadata.name=')) {
        this.podNames.set(s.name, [s.podSelector.slice('metadata.name='.length)]);
        continue;
      }
      const pods = await this.api.call(`list pods in ${s.namespace}`, () => this.api.core.listNamespacedPod({ namespace: s.namespace, labelSelector: s.podSelector }))
        .catch((err: unknown) => { this.lastError = err; return { items: [] }; });
      this.podNames.set(s.name, pods.items.map((p) => p.metadata?.name ?? ''));
    }
  }

  private async poll(): Promise<void> {
    const namespaces = [...new Set(this.sources.map((s) => s.namespace))];
    const lists = await Promise.all(namespaces.map((ns) => this.api.metrics.getPodMetrics(ns).then((l) => l.items, (err: unknown) => { this.lastError = err; return [] as PodMetric[]; })));
    const items = lists.flat();
    for (const s of this.sources) {
      const sample = sampleOf(s, this.podNames.get(s.name) ?? [], items);
      if (sample === undefined) continue;
      const series = this.series.get(s.name) ?? [];
      series.push(sample);
      this.series.set(s.name, series);
    }
  }
}
