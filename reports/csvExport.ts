import { stringify } from 'csv-stringify/sync';
import type { StepRow } from './stepRows';

export const stepColumns: ReadonlyArray<keyof StepRow> = [
  'runId', 'index', 'stepId', 'dataplane', 'placement', 'protocol', 'qps', 'connections', 'streams', 'payloadBytes', 'keepAlive', 'measurement', 'repetition', 'startedAt',
  'actualQps', 'requestsCompleted', 'requestsFailed', 'requestsUnsent', 'requestsInFlightAtEnd', 'requestsOverflowed', 'latencyP50Us', 'latencyP90Us', 'latencyP99Us', 'latencyP999Us', 'latencyMeanUs', 'latencyMaxUs',
  'serviceTimeP99Us', 'cpuUsPerRequest', 'memoryRssBytesPeak', 'connectionsOnPath', 'connectionsPerRequest', 'bytesCopiedPerRequest',
  'contextSwitchesPerRequest', 'syscallsPerRequest', 'ebpfRunTimeUsPerRequest', 'ebpfMapMemoryBytes',
];

/** Every step as one CSV row (header first); empty cells where a figure was not measured. */
export function stepsCsv(rows: readonly StepRow[]): string {
  return stringify(rows.map((r) => stepColumns.map((c) => r[c] ?? '')), { header: true, columns: stepColumns.map((c) => String(c)), cast: { boolean: (b) => (b ? 'true' : 'false') } });
}
