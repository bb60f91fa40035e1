import type { ComponentProbeRecord } from './probeRecord';
import { ProbeSet, type ProbeSetOptions, type ProbeStatus } from './probeSet';
import { resolveTargets, type ProbeTarget } from './probeTargets';
import type { Microseconds } from '../../workloads/units';

export interface ProbeSessionOptions extends ProbeSetOptions {
  /** Injected clock (µs). */
  readonly nowUs?: () => Microseconds;
}

export interface ProbeSessionResult {
  /** One record per target name. */
  readonly components: Readonly<Record<string, ComponentProbeRecord>>;
  /** Folded stacks per target name (sampling on and samples taken). */
  readonly foldedStacks: Readonly<Record<string, string>>;
  readonly probes: readonly ProbeStatus[];
  readonly durationUs: Microseconds;
}

const defaultNowUs = (): Microseconds => Number(process.hrtime.bigint() / 1000n);

/**
 * One measurement over a set of named cgroups: start() loads and attaches every probe, stop() detaches, reads
 * and releases everything. For many measurements in a row, use ProbeSet directly (it loads once).
 */
export class ProbeSession {
  private constructor(
    private readonly set: ProbeSet,
    private readonly startedUs: Microseconds,
    private readonly nowUs: () => Microseconds,
  ) {}

  static start(targets: readonly ProbeTarget[], options: ProbeSessionOptions = {}): ProbeSession {
    const resolved = resolveTargets(targets);
    const set = new ProbeSet(options);
    try {
      set.begin(resolved);
    } catch (err) {
      set.close();
      throw err;
    }
    const nowUs = options.nowUs ?? defaultNowUs;
    return new ProbeSession(set, nowUs(), nowUs);
  }

  stop(): ProbeSessionResult {
    try {
      const reading = this.set.end();
      return { ...reading, probes: this.set.status(), durationUs: this.nowUs() - this.startedUs };
    } finally {
      this.set.close();
    }
  }
}
