import fs from 'node:fs';
import os from 'node:os';
import { monotonicClock, type Clock } from '../../workloads/clock';
import { formatDurationUs, parseDurationUs } from '../../workloads/durationParse';
import type { LoadResult } from '../../workloads/loadResult';
import type { LoadedProfile } from '../profile/profileLoad';
import { EnvironmentError } from '../errors';
import type { DataPlaneName } from '../profile/profileSchema';
import { EbpfCostMeter, type EbpfCost } from '../resources/bpfCost';
import { CgroupSampler } from '../resources/cgroupSampler';
import { commonParent, NoiseMeter } from '../resources/noiseFingerprint';
import type { ResultsStore } from '../results/resultsStore';
import { resultsSchemaVersion, type ComponentResources, type LoadGeneratorCpu, type LoadPoint, type RunRecord, type StepRecord } from '../results/resultTypes';
import { summarise } from '../results/summarise';
import type { SummaryRecord } from '../results/summaryTypes';
import { machineInfo, toolVersions } from './environment';
import { HarnessAffinity } from './harnessCpus';
import { protocolLoadArgs } from './loadProcess';
import type { DeployedDataPlane, LoadProcessCpu, PlatformSession, ProbeProvider, StepProbeResult } from './platformSession';
import { planSteps, stepId, type PlannedStep } from './stepPlan';
import { StepPlanner } from './repetitionPlanner';
import { machineQuietDeps, waitForQuiet, type QuietGateSettings } from './quietGate';
import { judgeProbe, probeDurationUs, rateSearchConfig, searchMaxRate } from './rateSearch';
import { withRunAdditions } from '../results/runAdditions';
import { probeMeasurement, searchLine } from '../results/searchSummary';
import { percentShare, type RateSearchSettings } from '../profile/profileSchema';
import { profileForVariant } from './calibrationVariants';
import { describeEchoControlPaths, pathControlsUsed, withEchoControlPath, type DeploymentControlPaths } from './echoControlPaths';

export interface RunnerEvents {
  stepStarted(step: PlannedStep, total: number): void;
  stepProgress(step: PlannedStep, p: { qpsLastInterval: number; p99Us: number | null }): void;
  stepFinished(step: PlannedStep, record: StepRecord): void;
  note(line: string): void;
}

export interface RunOutcome {
  readonly run: RunRecord;
  readonly summary: SummaryRecord;
}

/**
 * Runs one planned step on a deployment and returns its record (undefined when aborted mid-step). The
 * runner's own measures; a test injects one that makes records without touching the machine.
 */
export type StepRunner = (step: PlannedStep, deployed: DeployedDataPlane, probes: ProbeProvider | undefined, signal: AbortSignal) => Promise<StepRecord | undefined>;

const noProbes: StepProbeResult = { figures: {}, detail: {}, foldedStacks: {} };

/**
 * profile → steps → results. For each planned step: deploy (once per deployment key), start the load
 * client with its warm-up, start probes and resource sampling when it reports that measuring began, stop
 * both when it finishes, write the step. An abort (Ctrl-C) ends the current step unrecorded, keeps every
 * finished one, marks the run partial and tears the platform down.
 */
export class Runner {
  constructor(
    private readonly loaded: LoadedProfile,
    private readonly platform: PlatformSession,
    private readonly probes: ProbeProvider | undefined,
    private readonly store: ResultsStore,
    private readonly events: RunnerEvents,
    private readonly runId: string,
    private readonly clock: Clock = monotonicClock,
    stepRunner?: StepRunner,
  ) {
    this.affinity = new HarnessAffinity(loaded.profile);
    this.stepRunner = stepRunner ?? ((step, d, probes, signal) => this.runStep(step, d, probes, signal));
  }

  /** Runs one planned step on its deployment (the real one measures; tests inject synthetic ones). */
  private readonly stepRunner: StepRunner;

  private readonly affinity: HarnessAffinity;

  async run(signal: AbortSignal): Promise<RunOutcome> {
    const profile = this.loaded.profile;
    const probeReason = !profile.probes.enabled ? 'disabled in the profile' : this.probes === undefined ? 'no probe provider' : this.probes.unavailableReason();
    // Instrumented repetitions without probes would only repeat the clean ones, except that an eBPF data
    // plane's own program time is measured in them (bpf_stats), on this machine's kernel.
    const ebpfHere = profile.platform === 'netns' && profile.dataplanes.some((n) => n === 'kernel' || n === 'dual');
    // Instrumented steps run only where they measure something (probes here, or an eBPF data plane's bpf_stats).
    const planner = new StepPlanner(profile, probeReason === null || ebpfHere);
    const search = profile.load.search;
    const searchDataplanes = search === undefined ? [] : baselineFirst(profile.dataplanes);
    const searchBudget = search === undefined ? 0 : search.maxProbes * searchDataplanes.length * profile.placement.length;
    const steps: StepRecord[] = [];
    const versions = { ...toolVersions(), ...(await this.platform.versions()) };
    let searchProbes = 0;
    // Adaptive repetitions and the search add steps as the run goes: this is the plan as known now.
    const plannedNow = (): number => planner.planned + searchBudget;
    let run: RunRecord = {
      schemaVersion: resultsSchemaVersion,
      kind: 'meshbench-run',
      runId: this.runId,
      status: 'running',
      statusReason: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
      profile: { name: profile.name, file: this.loaded.file, hash: this.loaded.hash, resolved: profile },
      machine: machineInfo(),
      versions,
      stepsPlanned: plannedNow(),
      stepsCompleted: 0,
      dataplanesSkipped: [],
    };
    const skipped = new Map<DataPlaneName, string>();
    // A calibration variant's deployment that fails loses its own steps only, never the plain baseline's.
    const failedVariants = new Set<string>();
    this.store.writeRun(run);
    const withoutInstr = probeReason !== null && !ebpfHere && planSteps(profile).some((st) => st.measurement === 'instrumented');
    if (probeReason !== null) this.events.note(`probes off: ${probeReason}${withoutInstr ? '; instrumented repetitions not run' : ''}`);
    if (this.affinity.note !== null) this.events.note(this.affinity.note);

    let deployed: DeployedDataPlane | undefined;
    let deployedKey: string | undefined;
    /** The path controls (connects, switches) the deployed echo server runs by default. */
    let deployedPathControls: DeploymentControlPaths['used'] = [];
    const controlPaths: DeploymentControlPaths[] = [];
    /** Removes the deployment and keeps what its echo server said of its control paths (known only once it stopped). */
    const remove = async (d: DeployedDataPlane): Promise<void> => {
      try {
        await this.platform.remove(d);
      } finally {
        if (deployedPathControls.length > 0) controlPaths.push({ used: deployedPathControls, paths: d.echoControlPaths?.() });
      }
    };
    let failure: unknown;
    let stoppedEarly = false;
    /** Runs one step (deploying first when its deployment key changes): its record, null when its data plane is skipped, undefined when aborted. */
    const execute = async (step: PlannedStep): Promise<StepRecord | null | undefined> => {
      if (signal.aborted) return undefined;
      if (skipped.has(step.dataplane) || failedVariants.has(step.deploymentKey)) return null;
      if (deployed === undefined || deployedKey !== step.deploymentKey) {
        if (deployed !== undefined) await remove(deployed);
        deployed = undefined;
        try {
          const deploymentProfile = profileForVariant(profile, step.variant);
          deployedPathControls = pathControlsUsed(deploymentProfile.workload.serverControls);
          deployed = await this.platform.deploy(step.dataplane, step.placement, deploymentProfile);
        } catch (err) {
          // A data plane this machine or build cannot run is skipped and named; the others still run.
          if (!(err instanceof EnvironmentError) || signal.aborted) throw err;
          const reason = err.userLine();
          if (step.variant !== undefined) {
            failedVariants.add(step.deploymentKey);
            this.events.note(`skipping calibration variant ${step.variant} on this deployment: ${reason}`);
            return null;
          }
          skipped.set(step.dataplane, reason);
          run = { ...run, dataplanesSkipped: [...skipped].map(([dataplane, why]) => ({ dataplane, reason: why })) };
          this.store.writeRun(run);
          this.events.note(`skipping data plane ${step.dataplane}: ${reason}`);
          return null;
        }
        deployedKey = step.deploymentKey;
      }
      if (signal.aborted) return undefined;
      const current: DeployedDataPlane = deployed;
      this.events.stepStarted(step, plannedNow());
      const record = await this.stepRunner(step, current, probeReason === null ? this.probes : undefined, signal);
      if (record === undefined) return undefined; // aborted mid-step: not recorded
      this.store.writeStep(record);
      steps.push(record);
      run = { ...run, stepsCompleted: steps.length, stepsPlanned: plannedNow() };
      this.store.writeRun(run);
      this.events.stepFinished(step, record);
      return record;
    };
    try {
      plan: for (let batch = planner.next(steps, new Set(skipped.keys())); batch.length > 0; batch = planner.next(steps, new Set(skipped.keys()))) {
        for (const step of batch) {
          if ((await execute(step)) === undefined) {
            stoppedEarly = true;
            break plan;
          }
        }
      }
      if (search !== undefined && !stoppedEarly) stoppedEarly = await this.searchRates(search, searchDataplanes, planner.handed, execute, () => { searchProbes += 1; });
    } catch (err) {
      // After an interrupt a failure is the interruption: a group-wide SIGINT (terminal Ctrl-C, coreutils
      // `timeout`) also kills the echo server or a setup command the platform is running.
      if (signal.aborted) stoppedEarly = true;
      else failure = err;
    } finally {
      if (deployed !== undefined) await remove(deployed).catch(() => undefined);
    }
    // Every data plane skipped: nothing was measured, and a "complete" run with exit 0 would pass a script's check.
    if (failure === undefined && !stoppedEarly && steps.length === 0 && skipped.size > 0) {
      failure = new EnvironmentError(`nothing measured: every data plane was skipped (${[...skipped].map(([d, why]) => `${d}: ${why}`).join('; ')})`, 'fix what the skip says (often: meshbench cleanup) and run again');
    }
    const status: 'complete' | 'partial' | 'failed' = failure !== undefined ? 'failed' : stoppedEarly ? 'partial' : 'complete';
    const reason = failure !== undefined ? (failure instanceof Error ? failure.message : String(failure)) : status === 'partial' ? 'interrupted' : null;
    // Once the run has ended, the plan is what was handed out (the search's unused budget was never planned).
    run = { ...run, status, statusReason: reason, endedAt: new Date().toISOString(), stepsCompleted: steps.length, stepsPlanned: status === 'complete' ? planner.planned + searchProbes : plannedNow() };
    this.store.writeRun(run);
    const echoControlPath = describeEchoControlPaths(controlPaths);
    const summary = withEchoControlPath(withRunAdditions(summarise(this.runId, status, steps, run.dataplanesSkipped), steps, profile), echoControlPath);
    this.store.writeSummary(summary);
    if (failure !== undefined) throw failure;
    return { run, summary };
  }

  /**
   * Searches the highest rate meeting `load.search`'s objective for every data plane (baseline first) and
   * placement, on one deployment each: probes are clean steps run through `execute`, numbered on after
   * the `handed` steps of the plan. True when the run was interrupted during a search.
   */
  private async searchRates(
    settings: RateSearchSettings, dataplanes: readonly DataPlaneName[], handed: number,
    execute: (step: PlannedStep) => Promise<StepRecord | null | undefined>, counted: () => void,
  ): Promise<boolean> {
    const profile = this.loaded.profile;
    const config = rateSearchConfig(settings);
    const durationUs = parseDurationUs(settings.duration ?? profile.duration) ?? 0;
    const quiet: QuietGateSettings | undefined = settings.quiet === undefined ? undefined
      : { belowShare: percentShare(settings.quiet.below), maxWaitUs: parseDurationUs(settings.quiet.wait, 's') ?? 0, sampleUs: 1_000_000 };
    const w = profile.workload;
    let index = handed;
    for (const placement of profile.placement) {
      for (const dataplane of dataplanes) {
        const point: LoadPoint = { qps: config.fromQps, connections: settings.connections ?? Math.max(...profile.load.connections), payloadBytes: w.payloadBytes[0] ?? 0, keepAlive: w.keepAlive, protocol: w.protocol };
        let interrupted = false;
        let skippedHere = false;
        // A probe that failed (an overload, or a P99 over the limit) leaves debt in the deployment: on the
        // development machine the baseline's first probe at 24,000 qps after a failing 32,000 failed in four
        // runs of four (P99 6.4–21.5 ms, machine idle) and every later one at that rate passed; on a fresh
        // deployment it passed in all three runs measured. So the next probe gets one (about 1 s here). Not all the
        // debt is the deployment's: 32,000 after an overloaded 64,000 still failed on fresh deployments.
        let generation = 0;
        const result = await searchMaxRate(config, async (qps, probe) => {
          index += 1;
          const step: PlannedStep = { index, dataplane, placement, loadPoint: { ...point, qps }, repetition: probe, measurement: 'clean', deploymentKey: `search|${dataplane}|${placement}|${generation}`, search: { probe, durationUs: probeDurationUs(config, qps, durationUs), config, ...(quiet === undefined ? {} : { quiet }) } };
          const record = await execute(step);
          if (record === null) skippedHere = true;
          if (record === undefined) interrupted = true;
          if (record === null || record === undefined) return undefined;
          counted();
          const m = probeMeasurement(record);
          if (judgeProbe(m, config.objective, config.closeMargin, config.noisyShare).verdict === 'fail') generation += 1;
          return m;
        });
        if (interrupted) return true;
        if (!skippedHere) this.events.note(`search ${dataplane} ${placement}: ${searchLine(result)}`);
      }
    }
    return false;
  }

  private async runStep(step: PlannedStep, d: DeployedDataPlane, probes: ProbeProvider | undefined, signal: AbortSignal): Promise<StepRecord | undefined> {
    const profile = this.loaded.profile;
    const p = step.loadPoint;
    const durationUs = step.search?.durationUs ?? parseDurationUs(profile.duration) ?? 0;
    const trimUs = parseDurationUs(profile.cooldownTrim) ?? 0;
    // A search probe may first wait (bounded) for other work on the machine to pass: see quietGate.ts.
    const quietWait = step.search?.quiet === undefined ? null : await waitForQuiet(step.search.quiet, machineQuietDeps(() => this.clock.nowUs(), signal));
    if (signal.aborted) return undefined;
    const startedAt = new Date().toISOString();
    // Clean repetitions carry nothing of meshbench's: no probe, no stack sampler, bpf_stats left off.
    const instrumented = step.measurement !== 'clean';
    const sampled = d.components.filter((c) => c.v2Path !== null).map((c) => ({
      name: c.name,
      v2Path: c.v2Path as string,
      ...(c.memoryV1Path === undefined ? {} : { memoryV1Path: c.memoryV1Path }),
    }));
    const sampler = new CgroupSampler(sampled);
    const noise = new NoiseMeter(commonParent(sampled.map((c) => c.v2Path)), os.cpus().length);
    const platformSampling = d.resourceSampling?.();
    const stepProbes = instrumented ? probes?.open(profile) : undefined;
    // bpf_stats makes every BPF program on the machine (the probes' too) read the clock per run. When a run
    // measures an eBPF data plane, it is on in every instrumented step, baseline included, so all data
    // planes' instrumented figures pay alike.
    const ownBpf = d.ebpf !== undefined && d.ebpf !== null;
    const ebpfMeter = instrumented && (ownBpf || profile.dataplanes.some((n) => n === 'kernel' || n === 'dual'))
      ? new EbpfCostMeter(d.ebpf ?? { progIds: [], mapIds: [] }) : undefined;
    let measuring: Promise<void> | undefined;
    let windowStartUs: number | undefined;
    let windowEndUs: number | undefined;
    let windowSource = 'load-client events (measuring, done)';
    let loadCpuStart: LoadProcessCpu | undefined;
    let loadCpuEnd: LoadProcessCpu | undefined;
    let bpfStatsEnabled: boolean | null = null;
    // Everything a figure needs is read here, at the instant the load client says its window ended; what
    // follows (probe teardown, symbolisation, the path check) is in no figure.
    const endWindow = (cpu?: LoadProcessCpu): void => {
      if (windowStartUs === undefined || windowEndUs !== undefined) return;
      windowEndUs = this.clock.nowUs();
      sampler.markEnd();
      noise.markEnd();
      ebpfMeter?.markEnd();
      loadCpuEnd = cpu;
      this.affinity.leave();
    };
    const args = [
      d.targetUrl, '--qps', String(p.qps), '--connections', String(p.connections), '--duration', formatDurationUs(durationUs),
      '--warmup', profile.warmup, '--payload-size', String(p.payloadBytes), ...(p.keepAlive ? [] : ['--no-keepalive']), ...protocolLoadArgs(p),
      '--labels', `${profile.name} ${stepId(step)}`,
    ];
    const abandon = async (): Promise<void> => {
      sampler.abandon();
      this.affinity.leave();
      ebpfMeter?.restore();
      await platformSampling?.stop(0, 0).catch(() => undefined);
      if (measuring !== undefined) await measuring.then(() => stepProbes?.stop()).catch(() => undefined);
    };
    let load: LoadResult;
    try {
      load = await d.runLoad({
        args,
        signal,
        onMeasuring: (cpu) => {
          windowStartUs = this.clock.nowUs();
          loadCpuStart = cpu;
          noise.start();
          sampler.start();
          platformSampling?.start();
          this.affinity.enter();
          ebpfMeter?.start();
          measuring = stepProbes?.start(d.components);
          bpfStatsEnabled = readBpfStats();
        },
        onWindowEnd: endWindow,
        onProgress: (pr) => this.events.stepProgress(step, pr),
      });
    } catch (err) {
      await abandon();
      if (signal.aborted) return undefined;
      throw err;
    }
    if (signal.aborted) {
      await abandon();
      return undefined;
    }
    if (windowEndUs === undefined) {
      // A platform that relays no window-end event (kubernetes reads the client's log): the window ends now.
      windowSource = 'load-client measuring event; end taken when the load client returned (no done event)';
      endWindow();
    }
    const measured = ebpfMeter?.stop(load.requestsCompleted);
    const ebpf: EbpfCost | null = ownBpf && measured !== undefined ? measured : null;
    let probeResult = noProbes;
    if (measuring !== undefined) {
      await measuring;
      probeResult = (await stepProbes?.stop(load.requestsCompleted)) ?? noProbes;
    }
    const resources: Record<string, ComponentResources> = {
      ...(sampled.length > 0 ? sampler.stop(load.requestsCompleted, trimUs) : {}),
      ...(platformSampling === undefined ? {} : await platformSampling.stop(load.requestsCompleted, trimUs)),
    };
    const loadGenerator = loadGeneratorCpu(loadCpuStart, loadCpuEnd, load.requestsCompleted);
    const clientRow = d.components.find((c) => c.role === 'client')?.name;
    if (loadGenerator !== null && clientRow !== undefined && resources[clientRow] !== undefined) {
      resources[clientRow] = withoutLoadGenerator(resources[clientRow], loadGenerator.cpuUserUs, load.requestsCompleted);
    }
    const ebpfComponent = d.components.find((c) => c.role === 'dataplane' && c.v2Path === null);
    // Unmeasured run time gets no component row (a row would need a CPU figure): step.ebpf says why.
    if (ebpf !== null && ebpf.runTimeNs !== null && ebpfComponent !== undefined) resources[ebpfComponent.name] = ebpfResources({ ...ebpf, runTimeNs: ebpf.runTimeNs }, load.actualDurationUs);
    // Counted after the window, on this step's deployment as it is now: a figure of this repetition.
    const connectionsOnPath = await d.connectionsOnPath().catch(() => null);
    const connectionsOnPathMeasuredAt = new Date().toISOString();
    const startUs = windowStartUs ?? 0;
    const endUs = windowEndUs ?? startUs;
    return {
      schemaVersion: resultsSchemaVersion,
      kind: 'meshbench-step',
      index: step.index,
      id: stepId(step),
      dataplane: step.dataplane,
      ...(step.variant === undefined ? {} : { variant: step.variant }),
      placement: step.placement,
      loadPoint: p,
      repetition: step.repetition,
      measurement: step.measurement,
      startedAt,
      endedAt: new Date().toISOString(),
      components: d.components.map(({ name, role, node, cgroupId }) => ({ name, role, node, cgroupId })),
      load,
      resources,
      window: { source: windowSource, durationUs: endUs - startUs, afterWindowUs: this.clock.nowUs() - endUs },
      instrumentation: {
        probesAttached: measuring !== undefined,
        stackSampling: measuring !== undefined && profile.probes.sampleHz > 0,
        bpfStatsEnabled,
      },
      loadGenerator,
      noise: noise.result(),
      probes: {
        // "available" means probe figures were measured; stacks alone (perf) do not count.
        available: stepProbes !== undefined && Object.keys(probeResult.figures).length > 0,
        unavailableReason: stepProbes !== undefined && Object.keys(probeResult.figures).length > 0 ? null
          : !instrumented ? 'clean repetition: no probes attached (probes.mode separate; the instrumented repetitions carry them)'
            : (probes?.figuresUnavailableReason?.() ?? probes?.unavailableReason() ?? (profile.probes.enabled ? 'unavailable' : 'disabled in the profile')),
        figures: probeResult.figures,
        detail: probeResult.detail,
        foldedStacks: probeResult.foldedStacks,
      },
      connectionsOnPath,
      connectionsOnPathMeasuredAt,
      ebpf,
      ...(step.search === undefined ? {} : { search: { probe: step.search.probe, config: step.search.config, ...(quietWait === null ? {} : { quietWait }) } }),
    };
  }
}

/** Data planes in run order: baseline first (its reference measured nearby), the others as the profile lists them. */
function baselineFirst(names: readonly DataPlaneName[]): DataPlaneName[] {
  return [...names].sort((a, b) => (a === 'baseline' ? -1 : b === 'baseline' ? 1 : 0));
}

const bpfStatsSysctl = '/proc/sys/kernel/bpf_stats_enabled';

/** kernel.bpf_stats_enabled now; null where it cannot be read (not Linux, no BPF). */
function readBpfStats(): boolean | null {
  try {
    return fs.readFileSync(bpfStatsSysctl, 'utf8').trim() !== '0';
  } catch {
    return null;
  }
}

/**
 * The load client's own CPU over its window, from its rusage at the two events; null without both. The
 * total is exact (the kernel's runtime); its user/system split is not: with tick-based accounting
 * (CONFIG_TICK_CPU_ACCOUNTING) the kernel splits a task's runtime by tick samples over its whole life and
 * keeps both parts monotonic, so the split of a window's difference can swing from all-user to
 * all-system. The window's total is split by the process's lifetime ratio at the window's end instead
 * (warm-up and window: the same work), which is the kernel's own estimate over the most ticks.
 */
export function loadGeneratorCpu(start: LoadProcessCpu | undefined, end: LoadProcessCpu | undefined, requests: number): LoadGeneratorCpu | null {
  if (start === undefined || end === undefined) return null;
  const totalUs = Math.max(0, end.cpuUserUs + end.cpuSystemUs - start.cpuUserUs - start.cpuSystemUs);
  const lifetime = end.cpuUserUs + end.cpuSystemUs;
  const cpuUserUs = lifetime > 0 ? (totalUs * end.cpuUserUs) / lifetime : 0;
  return {
    cpuUserUs,
    cpuSystemUs: totalUs - cpuUserUs,
    cpuUserUsPerRequest: requests > 0 ? cpuUserUs / requests : null,
    source: 'load client process rusage (process.cpuUsage) at its measuring and done events; the window total split user/system by the process lifetime ratio (tick-based kernel split)',
  };
}

/** The client pod's row without the load client's user-space CPU (its system time stays: a mesh changes it). */
export function withoutLoadGenerator(r: ComponentResources, loadUserUs: number, requests: number): ComponentResources {
  // The total is exact, the cgroup's own user/system split is tick-sampled like the process's: take the
  // load client's user time out of the total, and out of the row's user part as far as it goes.
  const cpuTotalUs = Math.max(0, r.cpuTotalUs - loadUserUs);
  const cpuUserUs = Math.min(cpuTotalUs, Math.max(0, r.cpuUserUs - loadUserUs));
  const cpuSystemUs = cpuTotalUs - cpuUserUs;
  return {
    ...r,
    cpuUserUs,
    cpuSystemUs,
    cpuTotalUs,
    cpuUsPerRequest: requests > 0 ? cpuTotalUs / requests : null,
    cpuCores: r.cpuTotalUs > 0 ? (r.cpuCores * cpuTotalUs) / r.cpuTotalUs : r.cpuCores,
  };
}

/** The eBPF data plane as a component row: its programs' run time as system CPU, its maps as memory. */
function ebpfResources(e: EbpfCost & { runTimeNs: number }, windowUs: number): ComponentResources {
  const us = e.runTimeNs / 1000;
  return {
    cpuUserUs: 0,
    cpuSystemUs: us,
    cpuTotalUs: us,
    cpuUsPerRequest: e.runTimeUsPerRequest,
    cpuCores: windowUs > 0 ? us / windowUs : 0,
    memoryRssBytesAvg: e.mapMemoryBytes,
    memoryRssBytesPeak: e.mapMemoryBytes,
    samples: 2,
  };
}
