import type { ControlPath } from '../workloads/calibrationWork';

/*
 * The echo server's calibration control paths as its stop line says them ("connects by the native addon,
 * switches by Node"): written by `meshbench echo` (echoCommand.ts) and read back by the netns platform,
 * which records them in the run (harness/runner/echoControlPaths.ts). One module, so the two cannot drift.
 */

/** Which mechanism did each calibration control's work in one echo server; a control it never ran is absent. */
export interface EchoControlPaths {
  readonly connects?: ControlPath;
  readonly switches?: ControlPath;
  readonly copies?: ControlPath;
}

/** The controls whose mechanism the stop line names, in its order. */
export const pathControls = ['connects', 'switches', 'copies'] as const;

const pathWords: Record<ControlPath, string> = { native: 'the native addon', node: 'Node' };

/** "connects by the native addon", one phrase per control that ran (for the echo's stop line). */
export function controlPathPhrases(paths: EchoControlPaths): string[] {
  return pathControls.flatMap((c) => {
    const p = paths[c];
    return p === undefined ? [] : [`${c} by ${pathWords[p]}`];
  });
}

/**
 * The paths named by the last `meshbench echo: stopped …` line of an echo server's output; null when
 * there is no stop line (the server was killed before it could print one). A stop line without a
 * phrase means no connects, switches or copies ran: `{}`.
 */
export function parseEchoControlPaths(output: string): EchoControlPaths | null {
  const stop = output.split('\n').reverse().find((l) => l.startsWith('meshbench echo: stopped '));
  if (stop === undefined) return null;
  const out: { -readonly [K in keyof EchoControlPaths]: EchoControlPaths[K] } = {};
  for (const c of pathControls) {
    const m = new RegExp(`\\b${c} by (the native addon|Node)\\b`).exec(stop);
    if (m !== null) out[c] = m[1] === pathWords.native ? 'native' : 'node';
  }
  return out;
}
