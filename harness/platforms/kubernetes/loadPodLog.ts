import { Writable } from 'node:stream';
import type { LoadResult } from '../../../workloads/loadResult';

/*
 * The load client in a pod speaks through its log: event lines ({"meshbenchEvent":true,…}) while it runs,
 * then its JSON result (pretty-printed, starting with a "{" line). Pure parsing, plus a Writable that feeds
 * events from a followed log as they arrive.
 */

export interface LoadEvent {
  readonly event: string;
  readonly qpsLastInterval?: number;
  /** Null (or absent) before the client's first request completes. */
  readonly p99Us?: number | null;
}

export function parseEventLine(line: string): LoadEvent | undefined {
  if (!line.startsWith('{"meshbenchEvent":true')) return undefined;
  try {
    return JSON.parse(line) as LoadEvent;
  } catch {
    return undefined;
  }
}

/** The result in a finished load pod's log, or the last line that is not an event (its error). */
export function parseLoadLog(text: string): { result: LoadResult } | { error: string } {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (lines[i] !== '{') continue;
    try {
      const parsed = JSON.parse(lines.slice(i).join('\n')) as Partial<LoadResult>;
      if (typeof parsed.requestsCompleted === 'number' && parsed.latency !== undefined) return { result: parsed as LoadResult };
    } catch {
      // not the result (or a torn one): keep looking further up
    }
  }
  const last = lines.map((l) => l.trim()).filter((l) => l !== '' && parseEventLine(l) === undefined).pop();
  return { error: last ?? 'no output' };
}

/** A Writable for Log.log(..., {follow: true}) that calls onEvent per event line. */
export function eventStream(onEvent: (e: LoadEvent) => void): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString();
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const e = parseEventLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        if (e !== undefined) onEvent(e);
      }
      done();
    },
  });
}
