import type { Microseconds } from './units';

const unitToUs: Record<string, number> = { ns: 0.001, us: 1, 'µs': 1, ms: 1000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };

/**
 * Parses a Go-style duration ("250us", "5ms", "1.5s", "2m", "1m30s") into microseconds.
 * A bare number is read in `bareUnit` (seconds for CLI durations, as wrk does).
 * Returns undefined when the text is not a duration; callers turn that into a BadInputError.
 */
export function parseDurationUs(text: string, bareUnit: keyof typeof unitToUs = 's'): Microseconds | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * (unitToUs[bareUnit] ?? 1);
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(trimmed); match !== null; match = part.exec(trimmed)) {
    total += Number(match[1]) * (unitToUs[match[2] as string] ?? Number.NaN);
    consumed = part.lastIndex;
  }
  if (consumed !== trimmed.length || !Number.isFinite(total)) return undefined;
  return total;
}

export function formatDurationUs(us: Microseconds): string {
  if (us >= 1_000_000) return `${trimNumber(us / 1_000_000)}s`;
  if (us >= 1000) return `${trimNumber(us / 1000)}ms`;
  return `${trimNumber(us)}us`;
}

function trimNumber(n: number): string {
  return Number(n.toFixed(3)).toString();
}
