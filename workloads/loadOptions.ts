import type { LoadTarget } from './loadTarget';
import type { Bytes, Microseconds, RequestsPerSecond } from './units';

export interface LoadOptions {
  readonly target: LoadTarget;
  /** 0 means closed loop at maximum throughput; otherwise open loop at this rate. */
  readonly qps: RequestsPerSecond;
  readonly connections: number;
  /** Stop after this long (measurement window, warm-up excluded). */
  readonly durationUs: Microseconds | undefined;
  /** Stop after this many measured requests. */
  readonly requests: number | undefined;
  readonly warmupUs: Microseconds;
  /** HTTP body (POST) or TCP message size; 0 for a GET without body. */
  readonly payloadBytes: Bytes;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** false: one new TCP connection per request (connection setup is part of what is measured). */
  readonly keepAlive: boolean;
  readonly timeoutUs: Microseconds;
  readonly labels: string;
}
