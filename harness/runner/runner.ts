import { formatDurationUs, parseDurationUs } from '../../workloads/durationParse';
import type { LoadResult } from '../../workloads/loadResult';
import type { LoadedProfile } from '../profile/profileLoad';
import { EnvironmentError } from '../errors';
import type { DataPlaneName } from '../profile/profileSchema';
import { EbpfCostMeter, type EbpfCost } from '../resources/bpfCost';
import { CgroupSampler } from '../resources/cgroupSampler';
import type { ResultsStore } from '../results/resultsStore';
import { resultsSchemaVersion, type ComponentResources, type RunRecord, type StepRecord } from '../results/resultTypes';
import { summarise } from '../results/summarise';
import type { SummaryRecord } from '../results/summaryTypes';
import { machineInfo, toolVersions } from './environment';
import type { DeployedDataPlane, PlatformSession, ProbeProvider, StepProbeResult } from './platformSession';
import { planSteps, stepId, type PlannedStep } from './stepPlan';

export interface RunnerEvents {
  stepStarted(step: PlannedStep, total: number): void;
  stepProgress(step: PlannedStep, p: { qpsLastInterval: number; p99Us: number }): void;
  stepFinished(step: PlannedStep, record: StepRecord): void;
  note(line: string): void;
}

export interface RunOutcome {
  readonly run: RunRecord;
  readonly summary: SummaryRecord;
}

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
  ) {}

  async run(signal: AbortSignal): Promise<RunOutcome> {
    const profile = this.loaded.profile;
    const plan = planSteps(profile);
    const steps: StepRecord[] = [];
    const versions = { ...toolVersions(), ...(await this.platform.versions()) };
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
      stepsPlanned: plan.length,
      stepsCompleted: 0,
      dataplanesSkipped: [],
    };
    const skipped = new Map<DataPlaneName, string>();
    this.store.writeRun(run);
    const probeReason = !profile.probes.enabled ? 'disabled in the profile' : this.probes === undefined ? 'no probe provider' : this.probes.unavailableReason();
    if (probeReason !== null) this.events.note(`probes off: ${probeReason}`);

    let deployed: DeployedDataPlane | undefined;
    let deployedKey: string | undefined;
    let failure: unknown;
    try {
      for (const step of plan) {
        if (signal.aborted) break;
        if (skipped.has(step.dataplane)) continue;
        if (deployed === undefined || deployedKey !== step.deploymentKey) {
          if (deployed !== undefined) await this.platform.remove(deployed);
          deployed = undefined;
          try {
            deployed = await this.platform.deploy(step.dataplane, step.placement, profile);
          } catch (err) {
            // A data plane this machine or build cannot run is skipped and named; the others still run.
            if (!(err instanceof EnvironmentError) || signal.aborted) throw err;
            const reason = err.userLine();
            skipped.set(step.dataplane, reason);
            run = { ...run, dataplanesSkipped: [...skipped].map(([dataplane, why]) => ({ dataplane, reason: why })) };
            this.store.writeRun(run);
            this.events.note(`skipping data plane ${step.dataplane}: ${reason}`);
            continue;
          }
          deployedKey = step.deploymentKey;
        }
        if (signal.aborted) break;
        const current: DeployedDataPlane = deployed;
        this.events.stepStarted(step, plan.length);
        const record = await this.runStep(step, current, probeReason === null ? this.probes : undefined, signal);
        if (record === undefined) break; // aborted mid-step: not recorded
        this.store.writeStep(record);
        steps.push(record);
        run = { ...run, stepsCompleted: steps.length };
        this.store.writeRun(run);
        this.events.stepFinished(step, record);
      }
    } catch (err) {
      failure = err;
    } finally {
      if (deployed !== undefined) await this.platform.remove(deployed).catch(() => undefined);
    }
    const runnable = plan.filter((st) => !skipped.has(st.dataplane)).length;
    const status: 'complete' | 'partial' | 'failed' = failure !== undefined ? 'failed' : steps.length < runnable ? 'partial' : 'complete';
    const reason = failure !== undefined ? (failure instanceof Error ? failure.message : String(failure)) : status === 'partial' ? 'interrupted' : null;
    run = { ...run, status, statusReason: reason, endedAt: new Date().toISOString(), stepsCompleted: steps.length };
    this.store.writeRun(run);
    const summary = summarise(this.runId, status, steps, run.dataplanesSkipped);
    this.store.writeSummary(summary);
    if (failure !== undefined) throw failure;
    return { run, summary };
  }

  private async runStep(step: PlannedStep, d: DeployedDataPlane, probes: ProbeProvider | undefined, signal: AbortSignal): Promise<StepRecord | undefined> {
    const profile = this.loaded.profile;
    const p = step.loadPoint;
    const durationUs = parseDurationUs(profile.duration) ?? 0;
    const trimUs = parseDurationUs(profile.cooldownTrim) ?? 0;
    const startedAt = new Date().toISOString();
    const sampled = d.components.filter((c) => c.v2Path !== null).map((c) => ({
      name: c.name,
      v2Path: c.v2Path as string,
      ...(c.memoryV1Path === undefined ? {} : { memoryV1Path: c.memoryV1Path }),
    }));
    const sampler = new CgroupSampler(sampled);
    const platformSampling = d.resourceSampling?.();
    const stepProbes = probes?.open(profile);
    // bpf_stats makes every BPF program on the machine (the probes' too) read the clock per run. When a run
    // measures an eBPF data plane, it is on in every step, baseline included, so all data planes pay alike.
    const ownBpf = d.ebpf !== undefined && d.ebpf !== null;
    const ebpfMeter = ownBpf || profile.dataplanes.some((n) => n === 'kernel' || n === 'dual')
      ? new EbpfCostMeter(d.ebpf ?? { progIds: [], mapIds: [] }) : undefined;
    let measuring: Promise<void> | undefined;
    const args = [
      d.targetUrl, '--qps', String(p.qps), '--connections', String(p.connections), '--duration', formatDurationUs(durationUs),
      '--warmup', profile.warmup, '--payload-size', String(p.payloadBytes), ...(p.keepAlive ? [] : ['--no-keepalive']),
      '--labels', `${profile.name} ${stepId(step)}`,
    ];
    let load: LoadResult;
    try {
      load = await d.runLoad({
        args,
        signal,
        onMeasuring: () => {
          sampler.start();
          platformSampling?.start();
          ebpfMeter?.start();
          measuring = stepProbes?.start(d.components);
        },
        onProgress: (pr) => this.events.stepProgress(step, pr),
      });
    } catch (err) {
      if (sampled.length > 0) sampler.stop(0, 0); // ends its timer
      ebpfMeter?.restore();
      await platformSampling?.stop(0, 0).catch(() => undefined);
      if (measuring !== undefined) await measuring.then(() => stepProbes?.stop()).catch(() => undefined);
      if (signal.aborted) return undefined;
      throw err;
    }
    if (signal.aborted) {
      if (sampled.length > 0) sampler.stop(0, 0);
      ebpfMeter?.restore();
      if (measuring !== undefined) await measuring.then(() => stepProbes?.stop()).catch(() => undefined);
      await platformSampling?.stop(0, 0).catch(() => undefined);
      return undefined;
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
    const ebpfComponent = d.components.find((c) => c.role === 'dataplane' && c.v2Path === null);
    // Unmeasured run time gets no component row (a row would need a CPU figure): step.ebpf says why.
    if (ebpf !== null && ebpf.runTimeNs !== null && ebpfComponent !== undefined) resources[ebpfComponent.name] = ebpfResources({ ...ebpf, runTimeNs: ebpf.runTimeNs }, load.actualDurationUs);
    const connectionsOnPath = await d.connectionsOnPath().catch(() => null);
    return {
      schemaVersion: resultsSchemaVersion,
      kind: 'meshbench-step',
      index: step.index,
      id: stepId(step),
      dataplane: step.dataplane,
      placement: step.placement,
      loadPoint: p,
      repetition: step.repetition,
      startedAt,
      endedAt: new Date().toISOString(),
      components: d.components.map(({ name, role, node, cgroupId }) => ({ name, role, node, cgroupId })),
      load,
      resources,
      probes: {
        // "available" means probe figures were measured; stacks alone (perf) do not count.
        available: stepProbes !== undefined && Object.keys(probeResult.figures).length > 0,
        unavailableReason: stepProbes !== undefined && Object.keys(probeResult.figures).length > 0 ? null
          : (probes?.figuresUnavailableReason?.() ?? probes?.unavailableReason() ?? (profile.probes.enabled ? 'unavailable' : 'disabled in the profile')),
        figures: probeResult.figures,
        detail: probeResult.detail,
        foldedStacks: probeResult.foldedStacks,
      },
      connectionsOnPath,
      ebpf,
    };
  }
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
