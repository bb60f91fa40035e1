import { BadInputError } from './errors';
import { parseDurationUs } from '../workloads/durationParse';
import type { Microseconds } from '../workloads/units';

// Flag value parsers shared by the subcommands; each failure is one line naming the flag.

export function parseNonNegativeNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new BadInputError(`${flag} must be a non-negative number, got "${text}"`);
  }
  return n;
}

export function parsePositiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new BadInputError(`${flag} must be a positive integer, got "${text}"`);
  }
  return n;
}

export function parseNonNegativeInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw new BadInputError(`${flag} must be a non-negative integer, got "${text}"`);
  }
  return n;
}

export function parsePort(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) throw new BadInputError(`${flag} must be a port number 0-65535, got "${text}"`);
  return n;
}

export function parseDurationFlag(flag: string, text: string): Microseconds {
  const us = parseDurationUs(text, 's');
  if (us === undefined || us < 0) throw new BadInputError(`${flag} must be a duration like 10s, 500ms or 1m, got "${text}"`);
  return us;
}

export function parseByteSize(flag: string, text: string): number {
  const m = /^(\d+)([kKmM]i?[bB]?|[bB])?$/.exec(text.trim());
  if (m === null) throw new BadInputError(`${flag} must be a size in bytes like 64, 1k or 1MiB, got "${text}"`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1;
  return Number(m[1]) * mult;
}
