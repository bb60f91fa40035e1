import type { LoadResult } from '../../workloads/loadResult';
import type { DataPlaneName, Profile } from '../profile/profileSchema';
import type { EchoControlPaths } from '../echoStopLine';
import type { EbpfObjects } from '../resources/bpfCost';
import type { ComponentInfo, ComponentResources, ProbeFigures } from '../results/resultTypes';

/*
 * What the runner needs of a platform (netns, kubernetes) and of the probes. The runner knows nothing
 * about namespaces or pods: it deploys a data plane, runs the load client where the platform says, and
 * samples the components the platform names.
 */

export type Placement = 'same-node' | 'cross-node';

export interface MeasuredComponent extends ComponentInfo {
  /** cgroup v2 directory (cpu.stat) and, on hybrid machines, the v1 memory directory. */
  readonly v2Path: string | null;
  readonly memoryV1Path?: string;
}

/** The load client's own rusage at one of its window events (µs since it started). */
export interface LoadProcessCpu {
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
}

export interface LoadInvocation {
  /** Arguments after `meshbench load` (URL included). */
  readonly args: readonly string[];
  /** The load client's warm-up ended and its measured window began; its rusage when it says so. */
  readonly onMeasuring: (cpu?: LoadProcessCpu) => void;
  /**
   * The load client's measured window ended (its last counted request finished), before it exits; called
   * by platforms that see the event (netns). Without it, the runner ends the window when the load returns.
   */
  readonly onWindowEnd?: (cpu?: LoadProcessCpu) => void;
  readonly onProgress: (p: { qpsLastInterval: number; p99Us: number | null }) => void;
  readonly signal: AbortSignal;
}

export interface DeployedDataPlane {
  readonly dataplane: DataPlaneName;
  readonly placement: Placement;
  /** What the client targets: the service address as the client sees it. */
  readonly targetUrl: string;
  readonly components: readonly MeasuredComponent[];
  /** Runs the load client in the client pod and returns its result. */
  runLoad(invocation: LoadInvocation): Promise<LoadResult>;
  /** TCP connections established along one request's path, counted by the platform; null if it cannot. */
  connectionsOnPath(): Promise<number | null>;
  /** The eBPF data plane's programs and maps, when it has any (its own cost is measured from them). */
  readonly ebpf?: EbpfObjects | null;
  /**
   * After PlatformSession.remove: which mechanism the echo server's `connects`, `switches` and `copies` controls used
   * (its stop line); null when it printed none. Absent on platforms that do not read it (kubernetes).
   */
  echoControlPaths?(): EchoControlPaths | null | undefined;
  /**
   * Resources measured by the platform itself (the kubernetes metrics API) for components without a local
   * cgroup; a fresh sampling per step. Absent on platforms whose components all have cgroup paths.
   */
  resourceSampling?(): ResourceSampling;
}

/** A platform's own resource sampling over one step's measured window. */
export interface ResourceSampling {
  start(): void;
  stop(requestsCompleted: number, trimUs: number): Promise<Record<string, ComponentResources>>;
}

export interface PlatformSession {
  readonly name: string;
  deploy(dataplane: DataPlaneName, placement: Placement, profile: Profile): Promise<DeployedDataPlane>;
  remove(deployed: DeployedDataPlane): Promise<void>;
  /** Versions of what the platform runs (proxy, kernel…), recorded in run.json. */
  versions(): Promise<Record<string, string>>;
  /** Removes everything the session created; safe to call twice. */
  close(): Promise<void>;
}

export interface StepProbeResult {
  readonly figures: Record<string, ProbeFigures>;
  readonly detail: Record<string, unknown>;
  readonly foldedStacks: Record<string, string>;
}

export interface StepProbes {
  start(components: readonly MeasuredComponent[]): Promise<void>;
  /** requestsCompleted, when given, adds per-request figures to each component's detail. */
  stop(requestsCompleted?: number): Promise<StepProbeResult>;
}

export interface ProbeProvider {
  /** null when the probes can run; otherwise why not (the run goes on without them). */
  unavailableReason(): string | null;
  /** When the provider runs but brings no probe figures (e.g. stacks only): why; null or absent otherwise. */
  figuresUnavailableReason?(): string | null;
  open(profile: Profile): StepProbes;
  close(): Promise<void>;
}
