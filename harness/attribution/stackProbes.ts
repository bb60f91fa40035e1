import type { Profile } from '../profile/profileSchema';
import type { MeasuredComponent, ProbeProvider, StepProbeResult, StepProbes } from '../runner/platformSession';
import { PerfStackSampler, perfUnavailableReason } from './perfStackSampler';

/*
 * cpu-clock stacks per component through perf, for runs where the eBPF probes cannot run (addon not built,
 * a refused hook, not root for BPF): the overhead breakdown still classifies where the CPU goes. When the
 * eBPF probes run they sample stacks themselves (the same cpu-clock event, keyed by cgroup), and perf stays off.
 */

class PerfStepProbes implements StepProbes {
  private sampler: PerfStackSampler | undefined;

  constructor(private readonly sampleHz: number) {}

  async start(components: readonly MeasuredComponent[]): Promise<void> {
    const targets = components.flatMap((c) => (c.v2Path === null ? [] : [{ name: c.name, v2Path: c.v2Path }]));
    this.sampler = new PerfStackSampler(targets, this.sampleHz);
    await this.sampler.start();
  }

  async stop(): Promise<StepProbeResult> {
    return { figures: {}, detail: {}, foldedStacks: (await this.sampler?.stop()) ?? {} };
  }
}

class PerfStacksProvider implements ProbeProvider {
  constructor(private readonly inner: ProbeProvider | undefined, private readonly innerReason: string, private readonly sampleHz: number) {}

  unavailableReason(): string | null {
    return null;
  }

  figuresUnavailableReason(): string {
    return this.innerReason;
  }

  open(profile: Profile): StepProbes {
    void profile;
    return new PerfStepProbes(this.sampleHz);
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}

/**
 * The probe provider to use: the eBPF one when it runs; perf stacks in its place when it cannot and the
 * profile samples stacks; `note` says what is off and why.
 */
export function withPerfStacks(inner: ProbeProvider | undefined, profile: Profile): { provider: ProbeProvider | undefined; note: string | null } {
  const innerReason = inner === undefined ? 'no eBPF probe provider' : inner.unavailableReason();
  if (innerReason === null || !profile.probes.enabled || profile.probes.sampleHz === 0) return { provider: inner, note: null };
  const why = perfUnavailableReason();
  if (why !== null) return { provider: inner, note: `stack sampling off: ${why}` };
  return {
    provider: new PerfStacksProvider(inner, innerReason, profile.probes.sampleHz),
    note: `eBPF probe figures off (${innerReason}); cpu-clock stacks sampled with perf at ${profile.probes.sampleHz} Hz`,
  };
}
