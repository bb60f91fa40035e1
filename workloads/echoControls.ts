import { parseDurationUs } from './durationParse';
import type { Bytes, Microseconds, Percent } from './units';

/** One choice with its probability, as in fortio's `delay=5ms:10,1ms:20`. */
export interface Weighted<T> {
  readonly value: T;
  readonly percent: Percent;
}

/** Per-request behaviour of the echo server; every field may come from the query string or a server default. */
export interface EchoControls {
  readonly delayUs: readonly Weighted<Microseconds>[];
  readonly status: readonly Weighted<number>[];
  readonly sizeBytes: readonly Weighted<Bytes>[];
  readonly closePercent: Percent;
  /** Calibration (known work, issue 14): user-space CPU to burn per request. */
  readonly burnUs: readonly Weighted<Microseconds>[];
  /** Calibration: extra passes of the reply bytes through the kernel (write + read on a socket pair). */
  readonly copies: readonly Weighted<number>[];
  /** Calibration: extra TCP connections opened and closed per request to a local listener. */
  readonly connects: readonly Weighted<number>[];
  /** Calibration: extra voluntary context switches of the serving thread per request. */
  readonly switches: readonly Weighted<number>[];
}

/** No control set: 200, the request body echoed, no delay, keep-alive, no calibration work. */
export const noControls: EchoControls = { delayUs: [], status: [], sizeBytes: [], closePercent: 0, burnUs: [], copies: [], connects: [], switches: [] };

/** True when any calibration control is set (they need helpers: a socket pair, a listener, a thread). */
export function hasCalibration(c: EchoControls): boolean {
  return c.burnUs.length > 0 || c.copies.length > 0 || c.connects.length > 0 || c.switches.length > 0;
}

/** A control's value cannot be read; the message names the key (the server answers it with 400, the CLI exits 2). */
export class ControlSyntaxError extends Error {}

/**
 * A fortio `value:percent,…` list (percents summing to at most 100); throws ControlSyntaxError naming `name`
 * and, when given, what a value may be (`expected`, e.g. "a duration up to 1s").
 */
export function parseWeightedList<T>(name: string, text: string, parseValue: (s: string) => T | undefined, expected?: string): Weighted<T>[] {
  const out: Weighted<T>[] = [];
  let total = 0;
  for (const item of text.split(',')) {
    if (item === '') continue;
    const colon = item.lastIndexOf(':');
    const valueText = colon < 0 ? item : item.slice(0, colon);
    const percentText = colon < 0 ? '100' : item.slice(colon + 1);
    const value = parseValue(valueText);
    const percent = Number(percentText);
    if (value === undefined) throw new ControlSyntaxError(`${name}: "${valueText}" is not a valid value${expected === undefined ? '' : ` (expected ${expected})`}`);
    if (!Number.isFinite(percent) || percent < 0 || percent > 100 || percentText.trim() === '') {
      throw new ControlSyntaxError(`${name}: probability "${percentText}" must be a percent between 0 and 100`);
    }
    total += percent;
    out.push({ value, percent });
  }
  if (total > 100.0001) throw new ControlSyntaxError(`${name}: probabilities add up to ${total}%, more than 100%`);
  return out;
}

const parseDelay = (s: string): Microseconds | undefined => {
  const us = parseDurationUs(s, 'ms');
  return us !== undefined && us >= 0 && us <= 60_000_000 ? us : undefined;
};
const parseStatus = (s: string): number | undefined => (/^[1-5]\d\d$/.test(s) ? Number(s) : undefined);
const parseSize = (s: string): Bytes | undefined => {
  const n = Number(s);
  return /^\d+$/.test(s) && n <= 64 * 1024 * 1024 ? n : undefined;
};
const parseBurn = (s: string): Microseconds | undefined => {
  const us = parseDurationUs(s, 'us');
  return us !== undefined && us >= 0 && us <= 1_000_000 ? us : undefined;
};
/** Counts for copies, connects and switches: whole numbers up to 1000 per request. */
const parseCount = (s: string): number | undefined => {
  const n = Number(s);
  return /^\d+$/.test(s) && n <= 1000 ? n : undefined;
};
const parseClose = (s: string): Percent | undefined => {
  if (s === 'true' || s === '') return 100;
  if (s === 'false') return 0;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
};

/** `decodeURIComponent` throws a URIError on `%zz` or a lone `%`: a request's typo, reported as one. */
function decodeValue(key: string, raw: string): string {
  if (raw.indexOf('%') < 0) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ControlSyntaxError(`${key}: "${raw}" has a malformed percent-escape`);
  }
}

/**
 * Parses fortio-style controls: `delay=5ms:10,1ms:20`, `status=503:5`, `size=1024`, `close=true` (or a percent),
 * and meshbench's calibration controls with the same `value:percent` lists: `burn=200us` (a bare number
 * is µs), `copies=N`, `connects=N`, `switches=N` (N ≤ 1000).
 * Pairs are `key=value` separated by `&` (a query string) — the same text works for server defaults.
 * Unknown keys are ignored, as fortio ignores them, so URLs with other parameters still work.
 */
export function parseControls(query: string, defaults: EchoControls = noControls): EchoControls {
  let { delayUs, status, sizeBytes, closePercent, burnUs, copies, connects, switches } = defaults;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : decodeValue(key, pair.slice(eq + 1));
    switch (key) {
      case 'delay': delayUs = parseWeightedList('delay', value, parseDelay, 'a duration up to 60s, like 5ms'); break;
      case 'status': status = parseWeightedList('status', value, parseStatus, 'an HTTP status 100–599'); break;
      case 'size': sizeBytes = parseWeightedList('size', value, parseSize, 'a byte count up to 64 MiB'); break;
      case 'close': {
        const p = parseClose(value);
        if (p === undefined) throw new ControlSyntaxError(`close: "${value}" must be true, false or a percent`);
        closePercent = p;
        break;
      }
      case 'burn': burnUs = parseWeightedList('burn', value, parseBurn, 'a duration up to 1s, like 200us'); break;
      case 'copies': copies = parseWeightedList('copies', value, parseCount, 'a whole number up to 1000'); break;
      case 'connects': connects = parseWeightedList('connects', value, parseCount, 'a whole number up to 1000'); break;
      case 'switches': switches = parseWeightedList('switches', value, parseCount, 'a whole number up to 1000'); break;
      default: break;
    }
  }
  return { delayUs, status, sizeBytes, closePercent, burnUs, copies, connects, switches };
}

/** The keys a server default may hold: parseControls' and the gRPC echo's (grpc-status, messages). */
export const serverControlKeys: readonly string[] = ['delay', 'status', 'size', 'close', 'burn', 'copies', 'connects', 'switches', 'grpc-status', 'messages'];

/**
 * Why `text` cannot be a server default (`meshbench echo --controls`, a profile's `workload.serverControls`), as
 * one line, or undefined. Stricter than a request's query string, where unknown keys are ignored as fortio
 * ignores them: a typo in a default (`brun=200us`) would otherwise do no work and say nothing.
 */
export function serverControlsProblem(text: string): string | undefined {
  const keys = serverControlKeyProblem(text);
  if (keys !== undefined) return keys;
  try {
    parseControls(text);
  } catch (err) {
    if (err instanceof ControlSyntaxError) return err.message;
    throw err;
  }
  return undefined;
}

/**
 * The key half of serverControlsProblem: an unknown key, a key with no value or an empty one (`burn=`), or a
 * key given twice (`burn=10us&burn=20us`: which would win is not something a default should leave to chance);
 * undefined when none.
 */
export function serverControlKeyProblem(text: string): string | undefined {
  const seen = new Set<string>();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (!serverControlKeys.includes(key)) return `unknown control "${key}": expected ${serverControlKeys.join(', ')}`;
    if (eq < 0 || eq === pair.length - 1) return `control "${key}" needs a value: ${key}=…`;
    if (seen.has(key)) return `control "${key}" is given twice: give it once (a list of value:percent pairs if you want a mix)`;
    seen.add(key);
  }
  return undefined;
}

/** fortio's pick: one draw in [0,100), the first entry whose cumulative percent exceeds it wins. */
export function pickWeighted<T>(choices: readonly Weighted<T>[], random: () => number): T | undefined {
  if (choices.length === 0) return undefined;
  if (choices.length === 1 && (choices[0] as Weighted<T>).percent >= 100) return (choices[0] as Weighted<T>).value;
  const draw = random() * 100;
  let cumulative = 0;
  for (const choice of choices) {
    cumulative += choice.percent;
    if (draw < cumulative) return choice.value;
  }
  return undefined;
}

/** One request's draw from its controls: what the server does for it (µs, bytes, counts). */
export interface ResolvedReply {
  readonly delayUs: Microseconds;
  readonly status: number;
  readonly sizeBytes: Bytes | undefined;
  readonly close: boolean;
  readonly burnUs: Microseconds;
  readonly copies: number;
  readonly connects: number;
  readonly switches: number;
}

/** Draws each control independently with `random` (uniform [0,1)); unset controls give the defaults. */
export function resolveReply(controls: EchoControls, random: () => number): ResolvedReply {
  return {
    delayUs: pickWeighted(controls.delayUs, random) ?? 0,
    status: pickWeighted(controls.status, random) ?? 200,
    sizeBytes: pickWeighted(controls.sizeBytes, random),
    close: controls.closePercent >= 100 ? true : controls.closePercent > 0 && random() * 100 < controls.closePercent,
    burnUs: pickWeighted(controls.burnUs, random) ?? 0,
    copies: pickWeighted(controls.copies, random) ?? 0,
    connects: pickWeighted(controls.connects, random) ?? 0,
    switches: pickWeighted(controls.switches, random) ?? 0,
  };
}
