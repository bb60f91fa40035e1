import type { Profile } from '../profile/profileSchema';
import type { MeasuredComponent, ProbeProvider, StepProbeResult, StepProbes } from '../runner/platformSession';
import type { ProbeFigures } from '../results/resultTypes';
import { describeError } from '../errors';
import { perRequest, toProbeFigures } from './probeRecord';
import { ProbeSet, type ProbeSetOptions } from './probeSet';
import { resolveTargets, type ProbeTarget } from './probeTargets';

const empty: StepProbeResult = { figures: {}, detail: {}, foldedStacks: {} };

/** The components the probes can key on: those with a cgroup v2 directory or id. */
export function probeTargetsOf(components: readonly MeasuredComponent[]): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  for (const c of components) {
    if (c.v2Path !== null) out.push({ name: c.name, v2Path: c.v2Path });
    else if (c.cgroupId !== null) out.push({ name: c.name, cgroupId: c.cgroupId });
  }
  return out;
}

/** One step's probes: attach on start (when the load client starts measuring), detach and read on stop. */
class SetStepProbes implements StepProbes {
  private started = false;

  constructor(
    private readonly set: ProbeSet,
    private readonly warn: (line: string) => void,
  ) {}

  async start(components: readonly MeasuredComponent[]): Promise<void> {
    try {
      this.set.begin(resolveTargets(probeTargetsOf(components)));
      this.started = true;
    } catch (err) {
      // A step without probes is still a measurement: say why once and go on.
      this.warn(`probes skipped for this step: ${describeError(err).line}`);
    }
  }

  async stop(requestsCompleted?: number): Promise<StepProbeResult> {
    if (!this.started) return empty;
    this.started = false;
    const reading = this.set.end();
    const figures: Record<string, ProbeFigures> = {};
    const detail: Record<string, unknown> = {};
    for (const [name, record] of Object.entries(reading.components)) {
      figures[name] = toProbeFigures(record);
      detail[name] = requestsCompleted === undefined ? record : { ...record, perRequest: perRequest(record, requestsCompleted) };
    }
    return { figures, detail, foldedStacks: reading.foldedStacks };
  }
}

class BpfProbeProvider implements ProbeProvider {
  constructor(
    private readonly set: ProbeSet | null,
    private readonly reason: string | null,
    private readonly warn: (line: string) => void,
  ) {}

  unavailableReason(): string | null {
    return this.reason;
  }

  open(profile: Profile): StepProbes {
    void profile; // the set was loaded for this run's profile (probes.include, probes.sampleHz)
    if (this.set === null) throw new Error(`probes unavailable: ${this.reason ?? 'unknown'}`);
    return new SetStepProbes(this.set, this.warn);
  }

  async close(): Promise<void> {
    this.set?.close();
  }
}

/**
 * A run's probes: the lean hook set (kernel counters where the kernel keeps them, syscalls in time slices), so
 * instrumented steps pay for as few hooks per request as the figures allow; `meshbench probe` keeps the full set.
 */
export function probeSetOptions(profile: Profile): ProbeSetOptions {
  return { probes: profile.probes.include, sampleHz: profile.probes.sampleHz, hooks: 'lean' };
}

/**
 * The probes for a run, or undefined when the profile turns them off. When the machine cannot run them (not
 * root, addon not built, a refused hook) the provider says why and the run goes on without them.
 */
export async function openProbeProvider(
  profile: Profile,
  warn: (line: string) => void = (line) => process.stderr.write(`meshbench: ${line}\n`),
): Promise<ProbeProvider | undefined> {
  if (!profile.probes.enabled) return undefined;
  try {
    return new BpfProbeProvider(new ProbeSet(probeSetOptions(profile)), null, warn);
  } catch (err) {
    return new BpfProbeProvider(null, describeError(err).line, warn);
  }
}
