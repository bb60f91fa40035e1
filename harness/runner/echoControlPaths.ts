import type { ControlPath } from '../../workloads/calibrationWork';
import { controlPathPhrases, pathControls, type EchoControlPaths } from '../echoStopLine';
import type { SummaryRecord } from '../results/summaryTypes';

/** One deployment's echo server: the path controls its default controls ran, and what its stop line said. */
export interface DeploymentControlPaths {
  /** `connects` / `switches` / `copies` among the echo server's default controls (`workload.serverControls`, a variant's). */
  readonly used: ReadonlyArray<(typeof pathControls)[number]>;
  /** From DeployedDataPlane.echoControlPaths after removal: null, no stop line; undefined, a platform that does not read it. */
  readonly paths: EchoControlPaths | null | undefined;
}

/** The path controls among an echo's `--controls` text ("size=1024&connects=2" → ["connects"]). */
export function pathControlsUsed(serverControls: string): Array<(typeof pathControls)[number]> {
  const names = new Set(serverControls.split('&').map((kv) => kv.split('=')[0]?.trim()));
  return pathControls.filter((c) => names.has(c));
}

/**
 * One line for the run summary (SummaryRecord.echoControlPath): which mechanism did each of `connects`, `switches`
 * and `copies` over the deployments that used it, e.g. "connects by the native addon, switches by the native
 * addon", or "connects by the native addon in 2 deployments, by Node in 1"; a deployment whose path is not
 * known says why. Undefined when no deployment used any of them.
 */
export function describeEchoControlPaths(deployments: readonly DeploymentControlPaths[]): string | undefined {
  const parts: string[] = [];
  for (const c of pathControls) {
    const counts = new Map<string, number>();
    for (const d of deployments) {
      if (!d.used.includes(c)) continue;
      const p: ControlPath | undefined = d.paths?.[c];
      const what = p !== undefined ? (controlPathPhrases({ [c]: p })[0] as string).slice(c.length + 1)
        : d.paths === undefined ? 'not recorded (this platform does not read the echo server\'s stop line)'
          : d.paths === null ? 'not recorded (the echo server printed no stop line)'
            : 'not recorded (the echo server never ran it)';
      counts.set(what, (counts.get(what) ?? 0) + 1);
    }
    if (counts.size === 0) continue;
    const entries = [...counts];
    parts.push(entries.length === 1 ? `${c} ${entries[0]?.[0] as string}`
      : `${c} ${entries.map(([what, n]) => `${what} in ${n} deployment${n === 1 ? '' : 's'}`).join(', ')}`);
  }
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** The summary with its `echoControlPath` line set, when there is one (see describeEchoControlPaths). */
export function withEchoControlPath(summary: SummaryRecord, line: string | undefined): SummaryRecord {
  return line === undefined ? summary : { ...summary, echoControlPath: line };
}
