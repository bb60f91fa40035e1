import type { Profile } from '../profile/profileSchema';
import type { MeasuredComponent, ProbeProvider, StepProbeResult, StepProbes } from '../runner/platformSession';
import { PerfStackSampler, perfUnavailableReason } from './perfStackSampler';

/*
 * Adds cpu-clock stacks per component (through perf) to a probe provider that has none, so the overhead
 * breakdown can classify where CPU goes even when the eBPF probes are off or unavailable. When the
 * provider brings its own stacks for a step, those are kept and perf's are dropped.
 */

class StepWithStacks implements StepProbes {
  private sampler: PerfStackSampler | undefined;

  constructor(private readonly inner: StepProbes | undefined, private readonly sampleHz: number) {}

  async start(components: readonly MeasuredComponent[]): Promise<void> {
    const targets = components.flatMap((c) => (c.v2Path === null ? [] : [{ name: c.name, v2Path: c.v2Path }]));
    this.sampler = new PerfStackSampler(targets, this.sampleHz);
    await Promise.all([this.sampler.start(), this.inner?.start(components)]);
  }

  async stop(): Promise<StepProbeResult> {
    const [stacks, inner] = await Promise.all([
      this.sampler?.stop() ?? Promise.resolve({}),
      this.inner?.stop() ?? Promise.resolve<StepProbeResult>({ figures: {}, detail: {}, foldedStacks: {} }),
    ]);
    const innerHasStacks = Object.values(inner.foldedStacks).some((s) => s !== '');
    return { ...inner, foldedStacks: innerHasStacks ? inner.foldedStacks : stacks };
  }
}

class ProviderWithStacks implements ProbeProvider {
  constructor(private readonly inner: ProbeProvider | undefined, private readonly sampleHz: number) {}

  unavailableReason(): string | null {
    return null;
  }

  figuresUnavailableReason(): string | null {
    return this.innerReason();
  }

  /** Why the eBPF probe figures are missing even though stacks are sampled; null when they run. */
  innerReason(): string | null {
    return this.inner === undefined ? 'no eBPF probe provider in this build' : this.inner.unavailableReason();
  }

  open(profile: Profile): StepProbes {
    const inner = this.inner !== undefined && this.inner.unavailableReason() === null ? this.inner.open(profile) : undefined;
    return new StepWithStacks(inner, this.sampleHz);
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}

/** The provider with perf stacks added when the profile samples stacks and perf works; else the provider as is. */
export function withPerfStacks(inner: ProbeProvider | undefined, profile: Profile): { provider: ProbeProvider | undefined; note: string | null } {
  if (!profile.probes.enabled || profile.probes.sampleHz === 0) return { provider: inner, note: null };
  const why = perfUnavailableReason();
  if (why !== null) return { provider: inner, note: `stack sampling off: ${why}` };
  const p = new ProviderWithStacks(inner, profile.probes.sampleHz);
  const innerWhy = p.innerReason();
  return { provider: p, note: innerWhy === null ? null : `eBPF probe figures off (${innerWhy}); cpu-clock stacks sampled with perf at ${profile.probes.sampleHz} Hz` };
}
