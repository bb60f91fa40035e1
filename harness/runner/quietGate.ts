import fs from 'node:fs';
import os from 'node:os';
import { parseProcStat } from '../resources/noiseFingerprint';
import type { Microseconds } from '../../workloads/units';

/*
 * Waits, a bounded time, for the machine to be quiet before a probe of a rate search. A P99 objective of a
 * few milliseconds on a shared 2-core machine is set by whoever else runs: in the development runs a 1000
 * qps probe of the baseline had a P99 of 20 ms while a compiler used 91 % of the machine, and 0.76 ms on a
 * quiet one. Other work comes and goes (a compile lasts tens of seconds), so a probe started once it has
 * gone measures the data plane, and a search whose probes all start that way gives the same answer from
 * run to run. The wait is bounded: on a machine that never quiets the probe runs anyway, its noise
 * fingerprint flags it, and the wait is recorded in the probe's step.
 *
 * Between probes the run's deployment is idle, so the machine's busy CPU (user + nice + system of
 * /proc/stat) is other work, plus the harness itself (a few ms per second).
 */

/** The gate's settings (`load.search.quiet` in a profile, resolved). */
export interface QuietGateSettings {
  /** Quiet: the machine's busy CPU over the last sample at most this share (0–1) of its CPUs. */
  readonly belowShare: number;
  /** The longest wait before a probe (µs); 0 = no gate. */
  readonly maxWaitUs: Microseconds;
  /** Length of one sample (µs). */
  readonly sampleUs: Microseconds;
}

/** How a wait ended. */
export interface QuietWait {
  /** From the first sample's start to the probe's start (µs): at least one sample. */
  readonly waitedUs: Microseconds;
  /** The machine's busy share (0–1 of its CPUs) over the last sample before the probe. */
  readonly busyShare: number;
  /** True when the last sample was at or below `belowShare`; false when the wait ran out first. */
  readonly quiet: boolean;
}

/** What the gate reads: the machine's busy CPU so far (µs, all CPUs), the CPU count, a clock, and a sleep. */
export interface QuietGateDeps {
  readonly busyCpuUs: () => number;
  readonly cpus: number;
  readonly nowUs: () => number;
  readonly sleepUs: (us: number) => Promise<void>;
  /** True once the run is being stopped: the wait ends at once (quiet: false). */
  readonly aborted?: () => boolean;
}

/** The machine's busy CPU from /proc/stat (user + nice + system), µs over all CPUs. Throws when /proc/stat is unreadable. */
export function procStatBusyUs(): number {
  const t = parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  return t.userUs + t.niceUs + t.systemUs;
}

/** The gate's real dependencies: /proc/stat, os.cpus(), a monotonic clock and setTimeout. */
export const machineQuietDeps = (nowUs: () => number, signal?: AbortSignal): QuietGateDeps => ({
  busyCpuUs: procStatBusyUs,
  cpus: Math.max(1, os.cpus().length),
  nowUs,
  sleepUs: (us) => new Promise((resolve) => { setTimeout(resolve, Math.max(0, us / 1000)); }),
  aborted: () => signal?.aborted === true,
});

/**
 * Samples the machine's busy share every `sampleUs` until one sample is at or below `belowShare`, or
 * `maxWaitUs` has passed (then returns quiet: false); null when the gate is off (`maxWaitUs` 0). A sample
 * whose CPU counter went backwards (never, on Linux) counts as busy.
 */
export async function waitForQuiet(settings: QuietGateSettings, deps: QuietGateDeps): Promise<QuietWait | null> {
  if (settings.maxWaitUs <= 0) return null;
  const startUs = deps.nowUs();
  for (;;) {
    const a = deps.busyCpuUs();
    const t0 = deps.nowUs();
    await deps.sleepUs(settings.sampleUs);
    const windowUs = Math.max(1, deps.nowUs() - t0);
    const busyUs = deps.busyCpuUs() - a;
    const busyShare = busyUs < 0 ? 1 : Math.min(1, busyUs / (windowUs * deps.cpus));
    const waitedUs = deps.nowUs() - startUs;
    if (busyShare <= settings.belowShare) return { waitedUs, busyShare, quiet: true };
    if (waitedUs >= settings.maxWaitUs || deps.aborted?.() === true) return { waitedUs, busyShare, quiet: false };
  }
}
