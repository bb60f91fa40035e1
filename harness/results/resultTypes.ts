import type { LoadResult } from '../../workloads/loadResult';
import type { Bytes, Microseconds } from '../../workloads/units';
import type { DataPlaneName, Profile, WorkloadProtocol } from '../profile/profileSchema';
import type { EbpfCost } from '../resources/bpfCost';
import type { QuietWait } from '../runner/quietGate';
import type { RateSearchConfig } from '../runner/rateSearch';

/*
 * The results folder is the contract between the runner and the reports (see SCHEMA.md beside this file).
 * Bump resultsSchemaVersion on any change a reader must know about; readers refuse other versions.
 */
export const resultsSchemaVersion = 1;

export type ComponentRole = 'client' | 'server' | 'proxy' | 'dataplane';

/** The component row of an eBPF data plane (role `dataplane`, no cgroup of its own). */
export const ebpfComponentName = 'ebpf-dataplane';

export interface ComponentInfo {
  /** Stable name across data planes where the role is the same: "client", "server", "client-proxy", "node1-ztunnel"… */
  readonly name: string;
  readonly role: ComponentRole;
  readonly node: string | null;
  /** cgroup v2 id as a decimal string (bigint in memory). */
  readonly cgroupId: string | null;
}

export interface MachineInfo {
  readonly hostname: string;
  readonly kernel: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryBytes: Bytes;
  readonly node: string;
  readonly platform: string;
}

export interface RunRecord {
  readonly schemaVersion: typeof resultsSchemaVersion;
  readonly kind: 'meshbench-run';
  readonly runId: string;
  readonly status: 'running' | 'complete' | 'partial' | 'failed';
  /** Why a run is partial or failed: "interrupted (SIGINT)", an error line. */
  readonly statusReason: string | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly profile: { readonly name: string; readonly file: string; readonly hash: string; readonly resolved: Profile };
  readonly machine: MachineInfo;
  readonly versions: Readonly<Record<string, string>>;
  readonly stepsPlanned: number;
  readonly stepsCompleted: number;
  /** Data planes that could not be deployed on this machine, with why; their steps are not run. */
  readonly dataplanesSkipped: ReadonlyArray<{ readonly dataplane: DataPlaneName; readonly reason: string }>;
}

export interface LoadPoint {
  /** 0 = closed loop at maximum throughput. */
  readonly qps: number;
  readonly connections: number;
  readonly payloadBytes: Bytes;
  readonly keepAlive: boolean;
  /** What the workloads spoke (see `workloadProtocols`); `http` is HTTP/1.1. */
  readonly protocol: WorkloadProtocol;
  /** Concurrent streams per connection (HTTP/2, gRPC); absent in results of meshbench ≤ 0.1, meaning 1. */
  readonly streams?: number;
}

export interface ComponentResources {
  readonly cpuUserUs: Microseconds;
  readonly cpuSystemUs: Microseconds;
  readonly cpuTotalUs: Microseconds;
  /** cpuTotalUs over the measured window / requests completed. */
  readonly cpuUsPerRequest: number | null;
  /** Average CPUs busy over the window (1.0 = one core). */
  readonly cpuCores: number;
  readonly memoryRssBytesAvg: Bytes | null;
  readonly memoryRssBytesPeak: Bytes | null;
  readonly samples: number;
  /**
   * Peak memory over the measured window. From the kernel where it keeps one (cgroup v1
   * memory.max_usage_in_bytes or v2 memory.peak, reset at the window start; charged memory: anonymous,
   * page cache and kernel memory), else the largest sampled RSS. Absent in results of meshbench ≤ 0.1.
   */
  readonly memoryPeakBytes?: Bytes | null;
  /** Where memoryPeakBytes came from, e.g. "cgroup v1 memory.max_usage_in_bytes (reset at window start)" or "sampled maximum of RSS (every 200 ms)". */
  readonly memoryPeakSource?: string;
}

/** How a step was measured: see `probes.mode`. Absent in results of meshbench ≤ 0.1, which measured inline. */
export type MeasurementKind = 'clean' | 'instrumented' | 'inline';

/**
 * A step counts towards headline figures (latency, throughput, CPU, memory, gates) unless it was
 * instrumented next to clean ones or is a probe of a rate search (summarised under `searches`).
 */
export function isHeadlineStep(s: Pick<StepRecord, 'measurement' | 'search'>): boolean {
  return s.measurement !== 'instrumented' && s.search === undefined;
}

/** A step's probe figures, stacks and eBPF program time are usable (it had the probes attached). */
export function isInstrumentedStep(s: Pick<StepRecord, 'measurement'>): boolean {
  return s.measurement !== 'clean';
}

/** The measured window as the load client reported it, and what followed it outside the figures. */
export interface StepWindow {
  /** "load-client events" (start and end read at the client's events) or why the end was taken at its exit. */
  readonly source: string;
  /** From the window start event to the window end event, as the harness saw them. */
  readonly durationUs: Microseconds;
  /** From the window end to the step's end (probe teardown, symbolisation, path check): kept out of every figure. */
  readonly afterWindowUs: Microseconds;
}

/** What was attached while the step measured (checked, not assumed). */
export interface StepInstrumentation {
  readonly probesAttached: boolean;
  readonly stackSampling: boolean;
  /** kernel.bpf_stats_enabled during the window (1 makes every BPF program on the machine read the clock per run). */
  readonly bpfStatsEnabled: boolean | null;
}

/**
 * The load client's own CPU over the window, from its process's rusage (process.cpuUsage() at its window
 * events). Its user time is the harness's, not the mesh's: subtracted from the client row and reported
 * here; its system time stays in the client row, since a mesh changes it.
 */
export interface LoadGeneratorCpu {
  readonly cpuUserUs: Microseconds;
  readonly cpuSystemUs: Microseconds;
  readonly cpuUserUsPerRequest: number | null;
  readonly source: string;
}

/**
 * The machine's noise over a step's window (from /proc/stat and the cgroup tree): CPU stolen by the
 * hypervisor and CPU used outside meshbench's cgroups and process (other work on the machine).
 */
export interface NoiseFingerprint {
  readonly windowUs: Microseconds;
  readonly cpus: number;
  /** /proc/stat steal over the window, and as a share of the machine's CPU time (cpus × window). */
  readonly stealUs: Microseconds;
  readonly stealShare: number;
  /** user+nice+system time of the machine minus the run's cgroup tree minus the harness's own process. */
  readonly outsideCpuUs: Microseconds;
  readonly outsideShare: number;
  /** irq+softirq time (the kernel does not charge it to cgroups; the mesh's own packets are in it). */
  readonly irqUs: Microseconds;
  /** The harness process's own CPU over the window (sampling, reading, the probes' user side). */
  readonly harnessCpuUs: Microseconds;
  /** Why the step is flagged noisy (a share above its threshold), empty when quiet. */
  readonly flags: readonly string[];
}

/** The probe figures the breakdown uses, per component; the full probe record is kept beside them. */
export interface ProbeFigures {
  readonly bytesSent: Bytes;
  readonly bytesReceived: Bytes;
  readonly connectionsOpened: number;
  readonly connectionsAccepted: number;
  readonly contextSwitchesVoluntary: number;
  readonly contextSwitchesInvoluntary: number;
  readonly syscalls: number;
  readonly onCpuUs: Microseconds;
}

/**
 * Categories of the overhead breakdown. `instrumentation` is meshbench's own probes (BPF program frames and
 * the tracepoint dispatch under them): reported, never part of the mesh's extra CPU. `kernel-unclassified`
 * is kernel time no rule names (syscall entry/exit alone, timer and RCU softirqs); `unexplained` is time
 * whose stacks were not captured (or not sampled).
 */
export const breakdownCategories = ['copying', 'connections', 'scheduling', 'syscalls', 'network-stack', 'proxy-userspace', 'application', 'kernel-unclassified', 'unexplained', 'instrumentation'] as const;
export type BreakdownCategory = (typeof breakdownCategories)[number];
/** The categories that name a cause: what "explained" counts. */
export const explainedCategories: readonly BreakdownCategory[] = ['copying', 'connections', 'scheduling', 'syscalls', 'network-stack', 'proxy-userspace', 'application'];

export interface OverheadBreakdown {
  readonly dataplane: DataPlaneName;
  readonly versus: 'baseline';
  /**
   * The mesh's extra CPU per request: total CPU per request of every component, this data plane minus
   * baseline, less the difference in meshbench's own instrumentation (byCategoryUs.instrumentation).
   */
  readonly extraCpuUsPerRequest: number;
  /** As measured, instrumentation included (absent in results written before it existed). */
  readonly measuredExtraCpuUsPerRequest?: number;
  /** Extra CPU µs per request by category (sum without instrumentation = extraCpuUsPerRequest) and by component within a category. */
  readonly byCategoryUs: Readonly<Record<BreakdownCategory, number>>;
  readonly byComponentUs: Readonly<Record<string, Readonly<Partial<Record<BreakdownCategory, number>>>>>;
  /**
   * Share of the category movements that named categories account for: Σ|named| / Σ|all but
   * instrumentation|, in 0–1 whatever the signs (1 - unexplained/extra left it when a category fell).
   */
  readonly explainedShare: number;
  readonly method: string;
  readonly extraBytesCopiedPerRequest: number | null;
  readonly extraConnectionsPerRequest: number | null;
  readonly extraContextSwitchesPerRequest: number | null;
}

export interface StepRecord {
  readonly schemaVersion: typeof resultsSchemaVersion;
  readonly kind: 'meshbench-step';
  readonly index: number;
  readonly id: string;
  readonly dataplane: DataPlaneName;
  /** A calibration variant of the baseline: the echo controls its server ran (profile `calibration:`); absent for plain steps. */
  readonly variant?: string;
  readonly placement: 'same-node' | 'cross-node';
  readonly loadPoint: LoadPoint;
  readonly repetition: number;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly components: readonly ComponentInfo[];
  readonly load: LoadResult;
  readonly resources: Readonly<Record<string, ComponentResources>>;
  readonly probes: {
    readonly available: boolean;
    readonly unavailableReason: string | null;
    readonly figures: Readonly<Record<string, ProbeFigures>>;
    /** The probe session's full per-component record (units in field names). */
    readonly detail: Readonly<Record<string, unknown>>;
    /** Folded stacks per component ("frame;frame;leaf count" lines) when sampling was on. */
    readonly foldedStacks: Readonly<Record<string, string>>;
  };
  /** TCP connections one request's path establishes (counted by the platform on a fresh connection after the step's window). */
  readonly connectionsOnPath: number | null;
  /** When connectionsOnPath was counted (ISO time; inside this step): it is measured per repetition, never copied. */
  readonly connectionsOnPathMeasuredAt?: string;
  /** clean / instrumented / inline (see probes.mode); absent = inline (meshbench ≤ 0.1). */
  readonly measurement?: MeasurementKind;
  readonly window?: StepWindow;
  readonly instrumentation?: StepInstrumentation;
  /** null when the load client reported no rusage (kubernetes, older clients). */
  readonly loadGenerator?: LoadGeneratorCpu | null;
  /** null when /proc/stat could not be read (not Linux). */
  readonly noise?: NoiseFingerprint | null;
  /**
   * The eBPF data plane's own cost (program run time, map memory); null when the data plane has no BPF
   * programs. Also listed under resources as the `dataplane`-role component, but never added to totals:
   * the programs run inside the client's and server's system calls, whose cgroup CPU already holds it.
   */
  readonly ebpf: EbpfCost | null;
  /**
   * Set on a probe of a rate search (`load.search`): its 1-based number within its data plane × placement
   * search, and the search's configuration (objective, from/to, budget, resolution), so the summary can
   * replay the search from the steps; `quietWait`, how long the probe waited for the machine to quiet
   * before it started (`load.search.quiet`; absent: no wait). Absent on every other step.
   */
  readonly search?: { readonly probe: number; readonly config: RateSearchConfig; readonly quietWait?: QuietWait };
}
