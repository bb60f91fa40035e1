import fs from 'node:fs';
import path from 'node:path';
import type { Symbolize } from './foldedStacks';

interface Mapping { readonly start: bigint; readonly end: bigint; readonly name: string }

/**
 * User frames by the mapping they fall in ("[libc.so.6]", "[node]"), and by symbol where the process writes a
 * perf map (/tmp/perf-PID.map, e.g. node --perf-basic-prof for JS frames). Processes that have exited by the
 * time stacks are read give "[unknown]": full ELF symbolisation is a job for perf/blazesym, not this harness.
 */
export function userSymbolizer(pid: number): Symbolize {
  const mappings: Mapping[] = [];
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
      if (m === null) continue;
      mappings.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), name: (m[3] ?? '').trim() });
    }
  } catch {
    // exited
  }
  const perfMap: Mapping[] = [];
  try {
    for (const line of fs.readFileSync(`/tmp/perf-${pid}.map`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/.exec(line);
      if (m === null) continue;
      const start = BigInt(`0x${m[1]}`);
      perfMap.push({ start, end: start + BigInt(`0x${m[2]}`), name: m[3] as string });
    }
  } catch {
    // no perf map
  }
  return (ip) => {
    const jit = perfMap.find((p) => ip >= p.start && ip < p.end);
    if (jit !== undefined) return jit.name;
    const m = mappings.find((p) => ip >= p.start && ip < p.end);
    if (m === undefined) return null;
    return m.name === '' ? '[anon]' : m.name.startsWith('[') ? m.name : `[${path.basename(m.name)}]`;
  };
}
