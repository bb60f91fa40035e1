import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadProfile } from '../profile/profileLoad';
import { withOverrides } from '../profile/profileOverrides';
import { ResultsStore } from '../results/resultsStore';
import type { StepRecord } from '../results/resultTypes';
import { formatUs } from '../results/formatUnits';
import { formatSummaryText } from '../results/summaryText';
import { Runner, type RunnerEvents } from '../runner/runner';
import { openPlatform, openProbes } from '../runner/platformFactory';
import { stepId, type PlannedStep } from '../runner/stepPlan';
import { BadInputError, ExitCode, MeshbenchError } from '../errors';
import { offlinePinning } from '../runner/harnessCpus';
import { onlineCpus } from '../probes/onlineCpus';
import { InterruptSignals } from './interruptSignals';

interface RunFlags {
  output?: string;
  repetitions?: string;
  duration?: string;
  warmup?: string;
  quiet?: boolean;
  json?: boolean;
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}


/** The live bar's P99 field: "-" (the bar's n/a, as before the first event) until a request has completed, never 0 µs. */
export function progressP99(p99Us: number | null): string {
  return p99Us === null ? '-' : formatUs(p99Us);
}

/** Plain lines when not on a TTY (CI logs), a live bar when on one; nothing with --quiet. */
function progressEvents(flags: RunFlags, startMs: number): RunnerEvents & { stop(): void } {
  const quiet = flags.quiet === true || flags.json === true;
  const tty = process.stderr.isTTY && !quiet;
  const bar = tty ? new cliProgress.SingleBar({
    format: '{step} |{bar}| {value}/{total} steps | {elapsed} elapsed, ~{remaining} left | {qps} qps, p99 {p99}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
  }, cliProgress.Presets.shades_classic) : undefined;
  let started = false;
  let done = 0;
  const elapsed = (): string => `${Math.round((Date.now() - startMs) / 1000)}s`;
  const remaining = (total: number): string => (done === 0 ? '?' : `${Math.round(((Date.now() - startMs) / done) * (total - done) / 1000)}s`);
  return {
    stepStarted(step: PlannedStep, total: number) {
      if (bar !== undefined) {
        if (!started) bar.start(total, 0, { step: stepId(step), elapsed: elapsed(), remaining: '?', qps: '-', p99: '-' });
        else {
          // Adaptive repetitions and rate searches change the plan as the run goes.
          bar.setTotal(total);
          bar.update(done, { step: stepId(step), elapsed: elapsed(), remaining: remaining(total) });
        }
        started = true;
      } else if (!quiet) {
        process.stderr.write(`[${step.index}/${total}] ${stepId(step)} (elapsed ${elapsed()})\n`);
      }
    },
    stepProgress(_step, p) {
      bar?.update(done, { qps: p.qpsLastInterval.toFixed(0), p99: progressP99(p.p99Us), elapsed: elapsed() });
    },
    stepFinished(step: PlannedStep, r: StepRecord) {
      done += 1;
      // A step that recorded no request has no latency (null figures), not 0 µs.
      const pct = (p: string): string => { const v = r.load.latency.percentilesUs[p]; return r.load.latency.count === 0 || v === null || v === undefined ? 'none' : formatUs(v); };
      const line = `${stepId(step)}: ${r.load.actualQps === null ? 'rate not measured' : `${r.load.actualQps.toFixed(0)} qps`}, p50 ${pct('50')}, p99 ${pct('99')}, ${r.load.requestsFailed} errors${behindRate(r)}`;
      if (bar !== undefined) bar.update(done, { elapsed: elapsed() });
      else if (!quiet) process.stderr.write(`  ${line}\n`);
    },
    note(text: string) {
      if (!quiet) process.stderr.write(`${tty ? '\n' : ''}meshbench run: ${text}\n`);
    },
    stop() {
      bar?.stop();
    },
  };
}

export { forcedAfterMs } from './interruptSignals';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a benchmark profile: every data plane × load point × repetition, into a results folder')
    .argument('<profile>', 'a profile file, e.g. profiles/quick.yaml')
    .option('-o, --output <dir>', 'results folder (default results/<time>-<profile name>)')
    .option('--quiet', 'no progress, only the final lines')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--repetitions <n>', "override the profile's repetitions (a shortened run)")
    .option('--duration <d>', "override the profile's measured window per step, e.g. 3s")
    .option('--warmup <d>', "override the profile's warm-up per step")
    .action(async (file: string, flags: RunFlags) => {
      // Validate before anything touches the machine.
      const loaded = withOverrides(loadProfile(file), flags);
      // Only the netns platform pins, on this machine's CPUs.
      const offline = loaded.profile.platform === 'netns' ? offlinePinning(loaded.profile, onlineCpus()) : null;
      if (offline !== null) throw new BadInputError(`${file}: ${offline}`, 'pin to the CPUs listed in /sys/devices/system/cpu/online, or leave cpuPinning out');
      const runId = `${timestamp()}-${loaded.profile.name}`;
      const platform = await openPlatform(loaded.profile, runId);
      const abort = new AbortController();
      // One interrupt can arrive as two signals (coreutils `timeout`): see InterruptSignals.
      const interrupts = new InterruptSignals();
      const onSignal = (): void => {
        const action = interrupts.next();
        if (action === 'repeat') return;
        if (action === 'force') process.exit(ExitCode.interrupted);
        process.stderr.write('\nmeshbench run: stopping after cleanup (Ctrl-C again to force)\n');
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const startMs = Date.now();
      const events = progressEvents(flags, startMs);
      const { provider: probes, note: probeNote } = await openProbes(loaded.profile);
      if (probeNote !== null) events.note(probeNote);
      let store: ResultsStore | undefined;
      try {
        store = ResultsStore.create(flags.output ?? path.join('results', runId));
        const outcome = await new Runner(loaded, platform, probes, store, events, runId).run(abort.signal);
        events.stop();
        if (flags.json === true) process.stdout.write(`${JSON.stringify(outcome.summary, null, 2)}\n`);
        else if (flags.quiet !== true) process.stderr.write(formatSummaryText(outcome.summary));
        process.stderr.write(`meshbench run: ${outcome.run.status} (${outcome.run.stepsCompleted}/${outcome.run.stepsPlanned} steps in ${Math.round((Date.now() - startMs) / 1000)} s)\n`);
        process.stderr.write(`results: ${store.dir}\n`);
        // `meshbench report` refuses a folder with no finished step: no hint that would fail.
        if (outcome.run.stepsCompleted > 0) process.stderr.write(`report:  meshbench report ${store.dir}\n`);
        if (outcome.run.status === 'partial') process.exitCode = ExitCode.interrupted;
      } catch (err) {
        events.stop();
        if (store !== undefined) process.stderr.write(`results so far: ${store.dir}\n`);
        throw err instanceof MeshbenchError ? err : new MeshbenchError(`run failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await probes?.close().catch(() => undefined);
        await platform.close();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** " (12 unsent, 2 in flight at end)" when the target fell behind the rate; those are inside the errors. */
function behindRate(r: StepRecord): string {
  const kinds = [
    r.load.requestsUnsent > 0 ? `${r.load.requestsUnsent} unsent` : '',
    r.load.requestsInFlightAtEnd > 0 ? `${r.load.requestsInFlightAtEnd} in flight at end` : '',
    r.load.requestsOverflowed > 0 ? `${r.load.requestsOverflowed} overflow` : '',
  ].filter((k) => k !== '');
  return kinds.length === 0 ? '' : ` (${kinds.join(', ')})`;
}
