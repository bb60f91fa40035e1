import type { BreakdownUncertainty } from '../attribution/breakdownInterval';
import type { CalibrationVerdict } from '../attribution/calibrationVerdict';
import type { DataPlaneName } from '../profile/profileSchema';
import type { LoadPoint, OverheadBreakdown } from './resultTypes';
import { resultsSchemaVersion } from './resultTypes';
import type { ConfidenceInterval } from './stats/bootstrap';
import type { RepetitionVerdict } from './repetitionVerdict';
import type { RateSearchSummary } from './searchSummary';

/** A headline figure over repetitions: every value, and min/median/max of them. */
export interface Spread {
  readonly values: readonly number[];
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** 95 % percentile-bootstrap interval of the median (headline figures with ≥ 2 values; see summaryIntervals.ts); absent otherwise. */
  readonly interval?: ConfidenceInterval;
}

export interface SummaryGroup {
  readonly dataplane: DataPlaneName;
  /** A calibration variant of the baseline (its echo controls, e.g. "burn=200us"), compared with the plain baseline; absent otherwise. */
  readonly variant?: string;
  readonly placement: 'same-node' | 'cross-node';
  readonly loadPoint: LoadPoint;
  readonly repetitions: number;
  /**
   * Latency percentiles over the repetitions that recorded a request; a repetition that recorded none has no
   * percentile (never 0 µs) and is left out, counted in latencyLeftOut. Null when no repetition recorded one.
   */
  readonly latencyP50Us: Spread | null;
  readonly latencyP90Us: Spread | null;
  readonly latencyP99Us: Spread | null;
  readonly latencyP999Us: Spread | null;
  /** The repetitions left out of the latency figures (and of the latency added) and why; absent when none was. */
  readonly latencyLeftOut?: LeftOut;
  readonly actualQps: Spread;
  /** Every component's CPU per request added up, over the repetitions where each was measured; null when none. */
  readonly cpuUsPerRequest: Spread | null;
  /** The repetitions left out of cpuUsPerRequest (a component's CPU per request not measured) and why; absent when none was. */
  readonly cpuLeftOut?: LeftOut;
  /**
   * The repetitions (step pairs) left out of the breakdown because a component's CPU per request was not
   * measured on either side (the data plane's step or its baseline's) and why; absent when none was. When every
   * pair is left out, `breakdown` is null and this says why.
   */
  readonly breakdownLeftOut?: LeftOut;
  /** Per component, median over repetitions. */
  readonly cpuUsPerRequestByComponent: Readonly<Record<string, number>>;
  readonly memoryRssBytesPeakByComponent: Readonly<Record<string, number>>;
  readonly errors: Spread;
  readonly connectionsOnPath: number | null;
  /** P50 latency added over baseline at the same point and placement (median of repetitions); null for baseline itself. */
  readonly latencyAddedP50Us: Spread | null;
  readonly latencyAddedP50Pct: Spread | null;
  readonly latencyAddedP99Us: Spread | null;
  readonly latencyAddedP99Pct: Spread | null;
  /** The eBPF data plane's program run time per request (bpf_stats) and map memory; null without BPF programs. */
  readonly ebpfRunTimeUsPerRequest: Spread | null;
  readonly ebpfMapMemoryBytes: number | null;
  /** Why the eBPF data plane's run time is null although it has programs (bpftool or bpf_stats failed in every repetition). */
  readonly ebpfRunTimeUnavailableReason?: string | null;
  /** Overhead over baseline from the repetition with the median extra CPU; null for baseline. */
  readonly breakdown: OverheadBreakdown | null;
  /** Over repetitions (each paired with its baseline): the extra CPU per request and the share the categories explain. */
  readonly extraCpuUsPerRequest: Spread | null;
  readonly breakdownExplainedShare: Spread | null;
  /** The kernel's peak memory per component (see ComponentResources.memoryPeakBytes), median over repetitions. */
  readonly memoryPeakBytesByComponent?: Readonly<Record<string, number>>;
  /** The load client's own user-space CPU per request (out of cpuUsPerRequest); null when not reported. */
  readonly loadGeneratorCpuUsPerRequest?: Spread | null;
  /** Instrumented against clean repetitions (probes.mode separate); null in inline runs or without probes. */
  readonly perturbation?: Perturbation | null;
  /** Repetitions whose noise fingerprint passed a threshold (steal, CPU outside meshbench), with why. */
  readonly noisySteps?: ReadonlyArray<{ readonly id: string; readonly flags: readonly string[] }>;
  /**
   * Each category's µs per request (mean over repetitions) with a 95 % bootstrap interval, and the explained
   * share only when the extra CPU lies outside its own interval; null for baseline. Absent in older summaries.
   */
  readonly breakdownUncertainty?: BreakdownUncertainty | null;
  /** With `repetitions: {min, max, until}`: whether the point's median P99 settled, or ran to max (repetitionVerdict.ts). Absent otherwise. */
  readonly repetitionVerdict?: RepetitionVerdict;
}

/** Repetitions a figure was not measured in, left out of its median and interval, and why (distinct reasons joined by "; "). */
export interface LeftOut {
  readonly repetitions: number;
  readonly reason: string;
}

/**
 * One figure instrumented against clean: medians over each kind's repetitions that have the figure (null
 * when none has it); deltaPct null when clean is 0 or either side is null.
 */
export interface PerturbationFigure {
  readonly clean: number | null;
  readonly instrumented: number | null;
  readonly deltaPct: number | null;
}

/** What meshbench's own probes, stack sampling and bpf_stats cost a data plane at one point: the perturbation. */
export interface Perturbation {
  readonly cleanRepetitions: number;
  readonly instrumentedRepetitions: number;
  readonly latencyP50Us: PerturbationFigure;
  readonly latencyP99Us: PerturbationFigure;
  readonly cpuUsPerRequest: PerturbationFigure;
}

export interface SummaryRecord {
  readonly schemaVersion: typeof resultsSchemaVersion;
  readonly kind: 'meshbench-summary';
  readonly runId: string;
  readonly status: 'complete' | 'partial' | 'failed';
  readonly dataplanesSkipped: ReadonlyArray<{ readonly dataplane: DataPlaneName; readonly reason: string }>;
  readonly groups: readonly SummaryGroup[];
  /** Injected against found for each calibration variant of the baseline (profile `calibration:`); absent without variants. */
  readonly calibration?: readonly CalibrationVerdict[];
  /** With `load.search`: per data plane × placement, the highest rate meeting the objective and every probe (searchSummary.ts). Absent otherwise. */
  readonly searches?: readonly RateSearchSummary[];
  /**
   * Which mechanism the echo server's `connects`, `switches` and `copies` calibration controls used, from its stop
   * line: "by the native addon" (bpf/addon/src/calibration.cc: the system calls with almost no user space
   * around them) or "by Node" (the fallback, whose own user space shows in the breakdown), e.g. "connects by
   * the native addon, switches by the native addon"; a deployment whose path is not known says why. Absent
   * when no deployment's echo ran either control (harness/runner/echoControlPaths.ts).
   */
  readonly echoControlPath?: string;
}
