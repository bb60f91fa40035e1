import { ControlSyntaxError, parseControls } from '../../workloads/echoControls';

/*
 * One entry of a profile's `calibration:` list: a known cost the echo server adds to every request (issue 14,
 * the echo calibration controls of workloads/echoControls.ts), run as a variant of the baseline.
 */

/** The four kinds of known work, in the order the echo server runs them. */
export const calibrationKinds = ['burn', 'copies', 'connects', 'switches'] as const;
export type CalibrationKind = (typeof calibrationKinds)[number];

/** A calibration variant: which work, how much per request, and the echo controls that inject it. */
export interface CalibrationControl {
  readonly kind: CalibrationKind;
  /** Per request: µs of user-space CPU for burn, a count for copies, connects and switches. */
  readonly amount: number;
  /** The fortio-style control text given to `meshbench echo --controls`, e.g. "burn=200us". */
  readonly query: string;
  /** The variant's name in step ids and tables: "burn200us", "copies4" (letters and digits only). */
  readonly name: string;
}

/**
 * Parses one calibration entry: exactly one of burn/copies/connects/switches, one value applied to every
 * request (no `:percent` mix), more than zero. Throws ControlSyntaxError with a line saying what to write.
 */
export function parseCalibrationControl(text: string): CalibrationControl {
  const c = parseControls(text);
  const set = calibrationKinds.filter((k) => (k === 'burn' ? c.burnUs : c[k]).length > 0);
  const other = c.delayUs.length > 0 || c.status.length > 0 || c.sizeBytes.length > 0 || c.closePercent > 0;
  if (set.length !== 1 || other) throw new ControlSyntaxError(`"${text}": expected exactly one of burn=200us, copies=N, connects=N, switches=N`);
  const kind = set[0] as CalibrationKind;
  const list = kind === 'burn' ? c.burnUs : c[kind];
  const only = list.length === 1 ? list[0] : undefined;
  if (only === undefined || only.percent < 100) throw new ControlSyntaxError(`"${text}": a calibration control applies to every request: give one value without a percent`);
  if (!(only.value > 0)) throw new ControlSyntaxError(`"${text}": the amount must be more than 0`);
  const unit = kind === 'burn' ? 'us' : '';
  return { kind, amount: only.value, query: text, name: `${kind}${only.value}${unit}` };
}

/** null when `text` is a valid calibration entry, else why not (for the profile schema's message). */
export function calibrationControlProblem(text: string): string | null {
  try {
    parseCalibrationControl(text);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
