import type { StepRecord } from '../../harness/results/resultTypes';

/** A copy of a baseline step as a calibration variant: `addUs` more CPU per request on the server, sampled as `stack`. */
export function variantOf(base: StepRecord, variant: string, addUs: number, stack: string, extra: (s: StepRecord) => StepRecord = (s) => s): StepRecord {
  const server = base.resources.server as NonNullable<StepRecord['resources'][string]>;
  const cpu = server.cpuUsPerRequest as number;
  const stacks = base.probes.foldedStacks.server as string;
  const samples = stacks.split('\n').reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const added = Math.round((samples * addUs) / cpu);
  return extra({
    ...base,
    id: `${base.id}-${variant}`,
    variant,
    resources: { ...base.resources, server: { ...server, cpuUsPerRequest: cpu + addUs, cpuTotalUs: (cpu + addUs) * base.load.requestsCompleted } },
    probes: { ...base.probes, foldedStacks: { ...base.probes.foldedStacks, server: `${stacks}\n${stack} ${added}` } },
  });
}

