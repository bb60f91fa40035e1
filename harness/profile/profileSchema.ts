import { z } from 'zod';
import { parseDurationUs } from '../../workloads/durationParse';
import { maxQps, windowTooShortProblem } from '../../workloads/windowFloor';
import { serverControlsProblem } from '../../workloads/echoControls';
import { calibrationControlProblem } from './calibrationControl';

/*
 * The profile: a declarative description of one benchmark (which data planes, placements, loads,
 * repetitions, probes and gates). Validated strictly: unknown keys are errors, because a typo that is
 * silently ignored produces a benchmark of something else.
 */

export const dataPlaneNames = ['baseline', 'sidecar', 'ambient', 'waypoint', 'kernel', 'dual'] as const;
export type DataPlaneName = (typeof dataPlaneNames)[number];
/**
 * What the workloads speak. `http`: HTTP/1.1 keep-alive; `http2`: HTTP/2 over cleartext with prior knowledge
 * (h2c, RFC 9113 §3.3); `grpc`: gRPC unary calls over h2c (fortio's `fgrpc.PingServer/Ping`); `tcp`: a raw
 * byte echo. The data planes configure their L7 hops from it (HTTP/2 on every L7 hop for `http2`/`grpc`,
 * L4 passthrough for `tcp`), as a mesh does from a port's declared protocol.
 */
export const workloadProtocols = ['http', 'http2', 'grpc', 'tcp'] as const;
/** One of `workloadProtocols`: http, http2, grpc or tcp. */
export type WorkloadProtocol = (typeof workloadProtocols)[number];
/** Protocols that multiplex streams on one connection (`load.streams` > 1 needs one of these). */
export const multiplexedProtocols: readonly WorkloadProtocol[] = ['http2', 'grpc'];
/**
 * Concurrent streams per connection that a profile may ask for: HAProxy's default
 * `tune.h2.max-concurrent-streams` (100), which every L7 hop would otherwise enforce on the client.
 */
export const maxStreamsPerConnection = 100;
export const probeNames = ['copy', 'connections', 'sched', 'syscalls', 'packets'] as const;
export type ProbeName = (typeof probeNames)[number];
/** Meshes the kubernetes platform enrols workloads into (`none` = a plain namespace). */
export const meshNames = ['none', 'istio', 'linkerd', 'cilium', 'kmesh'] as const;
export type MeshName = (typeof meshNames)[number];

/** A duration as text ("10s", "500ms") or a bare number of seconds; normalised to text. */
const duration = z.union([z.string(), z.number().nonnegative().transform((n) => `${n}s`)])
  .refine((s) => parseDurationUs(s, 's') !== undefined, { message: 'expected a duration like 10s, 500ms or 1m' });
const wholeRepetitions = 'a whole number of repetitions from 1 to 100';
/** A measured window: a duration above zero (a 0 s window measures nothing and divides by zero). */
const window = duration.refine((s) => (parseDurationUs(s, 's') ?? 0) > 0, { message: 'expected a measured window above 0, like 10s' });
const nonEmptyUnique = <T extends z.ZodType>(item: T) => z.array(item).nonempty().refine((a) => new Set(a.map((x) => JSON.stringify(x))).size === a.length, { message: 'expected no repeated entries' });

/** A relative threshold on a metric's change: "+5%" (may grow at most 5 %), "-5%" (may shrink at most 5 %). */
const relativeChange = z.string().regex(/^[+-]\d+(\.\d+)?%$/, { message: 'expected a signed percent like "+5%" or "-5%"' });

/**
 * What a gate can hold a run to. `cpu.loadGenerator` is the load client's own user-space CPU per request,
 * kept out of `cpu.perRequest` (which is the mesh's and the workloads' CPU): gate it only to watch the harness.
 */
export const gateMetrics = ['latency.p50', 'latency.p90', 'latency.p99', 'latency.p999', 'cpu.perRequest', 'cpu.loadGenerator', 'memory.peak', 'throughput.max'] as const;

/**
 * How probes meet measurements. `separate`: headline figures come from clean repetitions (nothing of
 * meshbench's attached, bpf_stats off); extra instrumented repetitions carry the probes, stack sampling and
 * bpf_stats and feed the breakdown. `inline`: every repetition carries the probes (a quick look; the probes'
 * cost is then inside every headline figure).
 */
export const probeModes = ['separate', 'inline'] as const;
export type ProbeMode = (typeof probeModes)[number];

/** A share as a percent string ("5%", "0.1%"), kept as text in the resolved profile; `percentShare` reads it. */
const percent = (max: number) => z.string({ error: (iss) => (iss.input === undefined ? 'expected a percent like "5%"' : `expected a percent like "5%", received ${typeof iss.input}`) }).regex(/^\d+(\.\d+)?%$/, { message: 'expected a percent like "5%" or "0.1%"' })
  .refine((s) => Number.parseFloat(s) <= max, { message: `expected a percent of at most ${max}%` });

/** "5%" → 0.05. Throws on text the schema would refuse (callers hold validated profiles). */
export function percentShare(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (m === null) throw new Error(`not a percent: ${text}`);
  return Number.parseFloat(m[1] as string) / 100;
}

/**
 * `repetitions: {min, max, until}`: repeat each point at least `min` and at most `max` times, stopping once
 * the 95 % interval of its median P99 latency is within ±`until` of that median (Chromium Pinpoint's
 * "run until the answer is clear"). A plain number is a fixed count (min = max, no early stop).
 */
const adaptiveRepetitions = z.strictObject({
  min: z.number().int().positive().max(100).default(3),
  max: z.number().int().positive().max(100).default(15),
  until: percent(100).refine((s) => Number.parseFloat(s) > 0, { message: 'expected a percent above 0%' }),
}).refine((r) => r.min <= r.max, { message: 'expected min ≤ max' });

/**
 * `load.search`: find the highest open-loop rate that meets an objective, per data plane and placement
 * (Nighthawk's adaptive load controller: exponential, then binary search). See harness/runner/rateSearch.ts.
 */
const rateSearchSchema = z.strictObject({
  /** The P99 latency (CO-corrected, every request of the window) a rate may reach and still pass. */
  p99: duration.refine((s) => (parseDurationUs(s, 's') ?? 0) > 0, { message: 'expected a latency above 0, like 5ms' }).optional(),
  /** The share of failed requests a rate may reach and still pass; "0%": none at all. */
  errors: percent(100).optional(),
  /** The first rate tried (requests per second): the search doubles it while it passes. */
  from: z.number().positive().max(maxQps).default(500),
  /** The highest rate tried: a data plane that passes here is reported as "at least `to`". */
  to: z.number().positive().max(maxQps).default(200_000),
  /** Probes (short clean steps, repeats included) per data plane and placement; the search ends at this count. */
  maxProbes: z.number().int().min(2).max(50).default(12),
  /** The search ends once the highest passing and lowest failing rate are within this share of each other. */
  // Above 0 (at 0 the near-knee step 1 + resolution would re-probe one rate until the budget ran out) and at
  // most 50 % (so that step stays below the exponential phase's doubling).
  resolution: percent(50).refine((s) => Number.parseFloat(s) > 0, { message: 'expected a percent above 0%' }).default('5%'),
  /** Each probe's measured window; default: the profile's `duration`. Stretched to hold `minRequests`. */
  duration: window.optional(),
  /**
   * Requests each probe's window holds at least (its duration is stretched at low rates): 10,000 by
   * default, 100 ÷ (1 − 0.99), so a P99 is the 100th-slowest request and not one outlier. 0: the duration alone.
   */
  minRequests: z.number().int().nonnegative().max(10_000_000).default(10_000),
  /** Connections of the probes; default: the highest of load.connections. */
  connections: z.number().int().positive().max(10_000).optional(),
  /**
   * Before each probe, wait up to `wait` for the machine's busy CPU (other work: the deployment is idle
   * between probes) to fall to `below` of its CPUs over a 1 s sample (harness/runner/quietGate.ts). Absent: no wait.
   */
  quiet: z.strictObject({
    below: percent(100).default('30%'),
    wait: duration.refine((s) => (parseDurationUs(s, 's') ?? 0) >= 1_000_000, { message: 'expected a wait of at least 1s, like 20s' }).default('20s'),
  }).optional(),
}).refine((s) => s.p99 !== undefined || s.errors !== undefined, { message: 'expected an objective: p99, errors, or both' })
  .refine((s) => s.from < s.to, { message: 'expected from below to' });

const cpuList = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, { message: 'expected a CPU list like "0" or "0,1" or "0-1"' })]);

export const profileSchema = z.strictObject({
  /** Names the results folder (`<UTC time>-<name>`), so it is kept well inside a file name's 255 bytes. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { message: 'expected lower-case letters, digits and dashes' }).max(64, { message: 'expected at most 64 characters (it names the results folder)' }),
  description: z.string().optional(),
  platform: z.enum(['netns', 'kubernetes']).default('netns'),
  dataplanes: nonEmptyUnique(z.enum(dataPlaneNames)),
  placement: nonEmptyUnique(z.enum(['same-node', 'cross-node'])).default(['cross-node']),
  workload: z.strictObject({
    protocol: z.enum(workloadProtocols).default('http'),
    payloadBytes: nonEmptyUnique(z.number().int().nonnegative().max(64 * 1024 * 1024)).default([0]),
    keepAlive: z.boolean().default(true),
    /** Echo server controls (fortio syntax) for every request, e.g. "size=1024". */
    serverControls: z.string().superRefine((s, ctx) => {
      const problem = serverControlsProblem(s);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }).default(''),
  }).prefault({}),
  load: z.strictObject({
    /** Open-loop rates; 0 means closed loop at maximum throughput; at most maxQps, as `meshbench load` refuses above it. */
    qps: nonEmptyUnique(z.number().nonnegative().max(maxQps)).default([1000]),
    connections: nonEmptyUnique(z.number().int().positive().max(10_000)).default([4]),
    /** Also find the maximum throughput per data plane (closed loop at the highest connection count). */
    maxThroughput: z.boolean().default(false),
    /** Search the highest rate meeting an objective per data plane and placement (see rateSearchSchema). */
    search: rateSearchSchema.optional(),
    /**
     * Concurrent streams per connection (`meshbench load --streams`), HTTP/2 and gRPC only. The default, 1,
     * keeps HTTP/1.1's one request in flight per connection, so protocols compare at equal concurrency.
     */
    streams: z.number().int().positive().max(maxStreamsPerConnection).default(1),
  }).prefault({}),
  duration: window,
  warmup: duration.default('1s'),
  /** Resource samples this close to the start and end of a step are dropped (ramp-up and drain). */
  cooldownTrim: duration.default('0s'),
  repetitions: z.union([z.number().int({ error: `expected ${wholeRepetitions}` }).positive({ error: `expected ${wholeRepetitions}` }).max(100, { error: `expected ${wholeRepetitions}` }), adaptiveRepetitions], { error: (iss) => `expected ${wholeRepetitions} or {min, max, until} like {min: 3, max: 15, until: 5%}, received ${Array.isArray(iss.input) ? 'array' : typeof iss.input}` }).default(1),
  /** Order steps ABAB… across data planes per repetition, so slow drift hits every data plane alike. */
  interleave: z.boolean().default(true),
  probes: z.strictObject({
    enabled: z.boolean().default(true),
    include: nonEmptyUnique(z.enum(probeNames)).default([...probeNames]),
    /** cpu-clock stack sampling for flame graphs; 0 = off. */
    sampleHz: z.number().int().nonnegative().max(10_000).default(0),
    mode: z.enum(probeModes).default('separate'),
    /**
     * With mode separate: instrumented repetitions per data plane × placement × load point, after the clean
     * ones (default 1). Refused with mode inline (every repetition is instrumented there, so the count would
     * silently do nothing) and at 0 (no repetition would carry the probes: `enabled: false` says that).
     */
    // The lower bound says what the superRefine below says for 0, so -1 and 0 are not told different bounds.
    instrumentedRepetitions: z.number().int().nonnegative({ message: 'expected at least 1 with probes.mode separate; to run with no instrumented repetition, set probes.enabled: false' }).max(100).optional(),
  }).superRefine((p, ctx) => {
    if (p.instrumentedRepetitions === undefined || !p.enabled) return;
    if (p.mode === 'inline') {
      ctx.addIssue({ code: 'custom', path: ['instrumentedRepetitions'], message: 'is for probes.mode separate; inline instruments every repetition: remove it, or set probes.mode: separate' });
    } else if (p.instrumentedRepetitions === 0) {
      ctx.addIssue({ code: 'custom', path: ['instrumentedRepetitions'], message: 'expected at least 1 with probes.mode separate; to run with no instrumented repetition, set probes.enabled: false' });
    }
  }).transform((p) => ({ ...p, instrumentedRepetitions: p.instrumentedRepetitions ?? 1 })).prefault({}),
  cpuPinning: z.strictObject({
    client: cpuList.optional(),
    server: cpuList.optional(),
    /**
     * A CPU list for every proxy, or `workload`: each sidecar proxy on the CPUs of the workload in its own pod
     * (the client's proxy with the client, the server's with the server, as a pod's containers share its node);
     * proxies outside a workload's pod (node proxies, waypoints) then float.
     */
    proxies: z.union([cpuList, z.literal('workload')]).optional(),
  }).optional(),
  proxy: z.strictObject({
    kind: z.enum(['haproxy', 'envoy']).default('haproxy'),
    workers: z.number().int().positive().max(64).default(2),
    mtls: z.boolean().default(false),
  }).prefault({}),
  /** Used only when platform is kubernetes (see README "The kubernetes platform"). */
  kubernetes: z.strictObject({
    /** A kubeconfig file; default: $KUBECONFIG, then ~/.kube/config (kubectl's conventions). */
    kubeconfig: z.string().optional(),
    context: z.string().optional(),
    /** The stock Node image the workloads run on (a mirror of it on air-gapped clusters). */
    image: z.string().optional(),
    /** The meshbench image (built from the repository's Dockerfile) for the probes DaemonSet; without it, no probes. */
    probesImage: z.string().optional(),
    /** Kmesh's waypoint image for the dual data plane (default ghcr.io/kmesh-net/waypoint:latest). */
    kmeshWaypointImage: z.string().optional(),
    namespacePrefix: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, { message: 'expected a DNS label of at most 32 characters' }).optional(),
    /** The mesh that serves every data plane it can; the others keep their default mesh. */
    mesh: z.enum(meshNames).optional(),
    /** Per data plane override of the mesh, e.g. {sidecar: linkerd, waypoint: cilium}. */
    meshes: z.partialRecord(z.enum(dataPlaneNames), z.enum(meshNames)).optional(),
    /** Node names to place on: [server node, client node for cross-node]; default: the first schedulable ones. */
    nodes: z.array(z.string().min(1)).max(2).optional(),
    /** How long pods, waypoints and namespace deletion may take. */
    readyTimeout: duration.default('180s'),
    /** How often the metrics API is read during a step (metrics-server refreshes every 15 s by default). */
    metricsInterval: duration.default('15s'),
  }).optional(),
  gates: z.partialRecord(z.enum(gateMetrics), relativeChange).default({}),
  /**
   * Calibration controls (issue 14): each entry, e.g. "burn=200us" or "copies=4", adds a variant of the
   * baseline whose echo server does that known work per request (`meshbench echo --controls`), measured at
   * every load point beside the plain baseline and compared with it (see harness/attribution/calibrationVerdict.ts).
   */
  calibration: nonEmptyUnique(z.string().superRefine((s, ctx) => {
    const problem = calibrationControlProblem(s);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  })).optional(),
}).superRefine((p, ctx) => {
  // Each step's window must hold a request interval at its rate (windowFloor.ts); the lowest rate needs the longest.
  const durationUs = parseDurationUs(p.duration, 's') ?? 0;
  const lowestQps = Math.min(...p.load.qps.map((q) => (q > 0 ? q : Number.POSITIVE_INFINITY)));
  const shortWindow = durationUs > 0 ? windowTooShortProblem(durationUs, Number.isFinite(lowestQps) ? lowestQps : 0) : null;
  if (shortWindow !== null) ctx.addIssue({ code: 'custom', path: ['duration'], message: shortWindow });
  const search = p.load.search;
  if (search !== undefined && search.minRequests === 0) {
    // Without minRequests a probe's window is its duration alone; the search's lowest rate is `from`.
    const probeUs = parseDurationUs(search.duration ?? p.duration, 's') ?? 0;
    const shortProbe = probeUs > 0 ? windowTooShortProblem(probeUs, search.from) : null;
    if (shortProbe !== null) ctx.addIssue({ code: 'custom', path: search.duration === undefined ? ['duration'] : ['load', 'search', 'duration'], message: `a search probe's window, ${shortProbe}` });
  }
  if (!p.workload.keepAlive && multiplexedProtocols.includes(p.workload.protocol)) {
    ctx.addIssue({ code: 'custom', path: ['workload', 'keepAlive'], message: `a new connection per request is for http and tcp; ${p.workload.protocol} keeps its connections (as h2load and fortio do)` });
  }
  if (p.load.streams > 1 && !multiplexedProtocols.includes(p.workload.protocol)) {
    ctx.addIssue({ code: 'custom', path: ['load', 'streams'], message: `more than 1 stream per connection needs workload.protocol ${multiplexedProtocols.join(' or ')}, not ${p.workload.protocol}` });
  }
  if (p.calibration === undefined) return;
  if (!p.dataplanes.includes('baseline')) ctx.addIssue({ code: 'custom', path: ['calibration'], message: 'calibration variants are variants of the baseline: add baseline to dataplanes' });
  if (p.workload.protocol !== 'http') ctx.addIssue({ code: 'custom', path: ['calibration'], message: 'calibration controls run on HTTP requests only: set workload.protocol to http' });
});

export type Profile = z.output<typeof profileSchema>;
/** The resolved `load.search` of a profile. */
export type RateSearchSettings = NonNullable<Profile['load']['search']>;
