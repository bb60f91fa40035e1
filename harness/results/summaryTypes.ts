import type { DataPlaneName } from '../profile/profileSchema';
import type { LoadPoint, OverheadBreakdown } from './resultTypes';
import { resultsSchemaVersion } from './resultTypes';
import type { ConfidenceInterval } from './stats/bootstrap';

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
  readonly placement: 'same-node' | 'cross-node';
  readonly loadPoint: LoadPoint;
  readonly repetitions: number;
  readonly latencyP50Us: Spread;
  readonly latencyP90Us: Spread;
  readonly latencyP99Us: Spread;
  readonly latencyP999Us: Spread;
  readonly actualQps: Spread;
  /** Every component's CPU per request added up. */
  readonly cpuUsPerRequest: Spread;
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
  /** Overhead over baseline from the repetition with the median extra CPU; null for baseline. */
  readonly breakdown: OverheadBreakdown | null;
  /** Over repetitions (each paired with its baseline): the extra CPU per request and the share the categories explain. */
  readonly extraCpuUsPerRequest: Spread | null;
  readonly breakdownExplainedShare: Spread | null;
}

export interface SummaryRecord {
  readonly schemaVersion: typeof resultsSchemaVersion;
  readonly kind: 'meshbench-summary';
  readonly runId: string;
  readonly status: 'complete' | 'partial' | 'failed';
  readonly dataplanesSkipped: ReadonlyArray<{ readonly dataplane: DataPlaneName; readonly reason: string }>;
  readonly groups: readonly SummaryGroup[];
}
