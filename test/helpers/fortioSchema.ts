import Ajv from 'ajv';
import addFormats from 'ajv-formats';

/*
 * JSON schema of a fortio result, written from fortio's Go source (fortio/fortio @ 45e1871):
 * periodic.RunnerResults, fhttp.HTTPRunnerResults, tcprunner.RunnerResults, fgrpc.GRPCRunnerResults and stats.HistogramData /
 * Bucket / Percentile, with the JSON names encoding/json gives exported Go fields (time.Time as RFC 3339,
 * time.Duration as integer nanoseconds, map[int]int64 keys as decimal strings). `required` lists what
 * fortio always writes plus every field ui/static/js/fortio_chart.js reads to draw a result
 * (Labels, URL|Destination, StartTime, DurationHistogram.{Count,Min,Max,Avg,Percentiles,Data[].{Start,End,Percent,Count}},
 * ErrorsDurationHistogram.{Count,Data}, RetCodes, RequestedQPS, ActualQPS, NumThreads, RequestedDuration,
 * ActualDuration, Jitter, Uniform). No other field is allowed, except meshbench's `ErrorsByKind`.
 */

const bucket = {
  type: 'object',
  additionalProperties: false,
  required: ['Start', 'End', 'Percent', 'Count'],
  properties: {
    Start: { type: 'number' },
    End: { type: 'number' },
    Percent: { type: 'number', minimum: 0, maximum: 100 },
    Count: { type: 'integer', minimum: 1 },
  },
};

const histogramData = {
  type: 'object',
  additionalProperties: false,
  required: ['Count', 'Min', 'Max', 'Sum', 'Avg', 'StdDev', 'Data'],
  properties: {
    Count: { type: 'integer', minimum: 0 },
    Min: { type: 'number' },
    Max: { type: 'number' },
    Sum: { type: 'number' },
    Avg: { type: 'number' },
    StdDev: { type: 'number', minimum: 0 },
    // Go writes a nil slice as null; fortio's chart code indexes Data[0] whenever Count > 0.
    Data: { type: ['array', 'null'], items: bucket },
    Percentiles: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['Percentile', 'Value'], properties: { Percentile: { type: 'number' }, Value: { type: 'number' } } },
    },
  },
  if: { properties: { Count: { minimum: 1 } } },
  then: { properties: { Data: { type: 'array', minItems: 1 } } },
};

export const fortioResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'RunType', 'Labels', 'StartTime', 'RequestedQPS', 'RequestedDuration', 'ActualQPS', 'ActualDuration', 'NumThreads', 'Version',
    'DurationHistogram', 'ErrorsDurationHistogram', 'Exactly', 'Jitter', 'Uniform', 'NoCatchUp', 'RunID', 'AccessLoggerInfo', 'ID',
    'RetCodes', 'SocketCount',
  ],
  properties: {
    // periodic.RunnerResults
    // fgrpc.RunGRPCTest: "GRPC Ping[ Delay=<duration>][ PayloadLength=<n>]", "GRPC Health for '<service>'[ PayloadLength=<n>]"
    RunType: { anyOf: [{ enum: ['HTTP', 'TCP', 'UDP'] }, { type: 'string', pattern: "^GRPC (Ping( Delay=[0-9.]+[a-zµ]+)?|Health for '[^']*')( PayloadLength=[0-9]+)?$" }] },
    Labels: { type: 'string' },
    StartTime: { type: 'string', format: 'date-time' },
    RequestedQPS: { type: 'string', pattern: '^(max|[0-9]+(\\.[0-9]+)?)$' },
    RequestedDuration: { type: 'string', minLength: 1 },
    ActualQPS: { type: 'number', minimum: 0 },
    ActualDuration: { type: 'integer', minimum: 0 },
    NumThreads: { type: 'integer', minimum: 1 },
    Version: { type: 'string' },
    DurationHistogram: histogramData,
    ErrorsDurationHistogram: histogramData,
    Exactly: { type: 'integer', minimum: 0 },
    Jitter: { type: 'boolean' },
    Uniform: { type: 'boolean' },
    NoCatchUp: { type: 'boolean' },
    RunID: { type: 'integer' },
    AccessLoggerInfo: { type: 'string' },
    ID: { type: 'string' },
    // fhttp.HTTPRunnerResults: RetCodes map[int]int64 (-1 = socket error); tcprunner: map[string]int64 ("OK" or the error)
    RetCodes: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
    IPCountMap: { type: 'object', additionalProperties: { type: 'integer' } },
    Sizes: histogramData,
    HeaderSizes: histogramData,
    Sockets: { type: 'array', items: { type: 'integer', minimum: 0 } },
    SocketCount: { type: 'integer', minimum: 0 },
    ConnectionStats: histogramData,
    AbortOn: { type: 'integer' },
    // fhttp.HTTPOptions (embedded) / tcprunner.TCPOptions
    URL: { type: 'string' },
    Destination: { type: 'string' },
    // fgrpc.GRPCRunnerResults: Streams int, Ping bool, Metadata metadata.MD (map[string][]string, nil → null)
    Streams: { type: 'integer', minimum: 1 },
    Ping: { type: 'boolean' },
    Metadata: { type: ['object', 'null'], additionalProperties: { type: 'array', items: { type: 'string' } } },
    // meshbench's own: what RetCodes["-1"] is made of
    ErrorsByKind: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
  },
  allOf: [
    { if: { properties: { RunType: { const: 'HTTP' } } }, then: { required: ['URL', 'Sizes', 'HeaderSizes'], properties: { RetCodes: { propertyNames: { pattern: '^-?[0-9]+$' } } } } },
    { if: { properties: { RunType: { const: 'TCP' } } }, then: { required: ['Destination'] } },
    // gRPC: HealthResultMap keyed by status name: SERVING (fortio's OK), ERROR, or a status a server answered with
    {
      if: { properties: { RunType: { pattern: '^GRPC' } } },
      then: {
        required: ['Destination', 'Streams', 'Ping', 'Metadata'],
        properties: { RetCodes: { propertyNames: { enum: ['SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN', 'ERROR', 'CANCELLED', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'] } } },
      },
    },
  ],
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
addFormats(ajv);
const validate = ajv.compile(fortioResultSchema);

/**
 * Schema errors of a fortio export, plus the invariants JSON schema cannot say (buckets ordered, the
 * last at 100 %, RetCodes summing to DurationHistogram.Count, unless `countsFromHistogram` is false for
 * synthetic results whose histogram is a sample); empty when valid.
 */
export function fortioExportProblems(value: unknown, options: { countsFromHistogram?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (!validate(value)) problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`));
  if (problems.length > 0) return problems;
  const f = value as { DurationHistogram: { Count: number; Data: Array<{ Start: number; End: number; Percent: number; Count: number }> | null }; ErrorsDurationHistogram: { Count: number }; RetCodes: Record<string, number> };
  const data = f.DurationHistogram.Data ?? [];
  let prevEnd = Number.NEGATIVE_INFINITY;
  for (const b of data) {
    if (b.Start > b.End) problems.push(`bucket ${b.Start}..${b.End} runs backwards`);
    if (b.Start < prevEnd - 1e-12) problems.push(`bucket ${b.Start}..${b.End} overlaps the one before`);
    prevEnd = b.End;
  }
  if (data.length > 0 && Math.abs((data[data.length - 1]?.Percent ?? 0) - 100) > 1e-9) problems.push('the last bucket is not at 100 %');
  if (data.reduce((n, b) => n + b.Count, 0) !== f.DurationHistogram.Count) problems.push('bucket counts do not sum to Count');
  const codes = Object.values(f.RetCodes).reduce((a, b) => a + b, 0);
  if (options.countsFromHistogram !== false && f.DurationHistogram.Count > 0 && codes !== f.DurationHistogram.Count && !(codes === 0 && f.DurationHistogram.Count === 2)) {
    problems.push(`RetCodes sum to ${codes}, DurationHistogram.Count is ${f.DurationHistogram.Count}`);
  }
  if (f.ErrorsDurationHistogram.Count > f.DurationHistogram.Count) problems.push('more errors than calls');
  return problems;
}
