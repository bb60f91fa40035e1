import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Symbolize } from './foldedStacks';

/*
 * User-space symbolisation of sampled stacks, done the way perf does it: the process's mappings
 * (/proc/PID/maps) place an address in a file, the file's ELF symbol table names it, and a perf map
 * (/tmp/perf-PID.map, written by V8 under --perf-basic-prof*) names JIT code. The load client exits before
 * its stacks are read, so the runner snapshots its mappings while it runs (rememberProcess) and its perf map
 * (which outlives it) is read, then removed, at symbolisation.
 */

/**
 * The Node flag that makes V8 write /tmp/perf-PID.map for JS functions only (not stubs or handlers), the
 * smallest map that names the JS frames; V8's own docs (v8.dev/docs/linux-perf) and perf's JIT interface.
 */
export const perfMapNodeFlag = '--perf-basic-prof-only-functions';

/** Where V8 (and any JIT honouring perf's convention) writes the perf map of process `pid`. */
export function perfMapFile(pid: number, dir = '/tmp'): string {
  return path.join(dir, `perf-${pid}.map`);
}

/** One line of /proc/PID/maps: [start, end) addresses, the file offset mapped at start, the path ("" for anonymous). */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly offset: bigint;
  readonly path: string;
  readonly executable: boolean;
}

/** Parses /proc/PID/maps text (proc(5)); lines that do not parse are skipped. */
export function parseProcMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+([0-9a-f]+)\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (m === null) continue;
    out.push({
      start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), offset: BigInt(`0x${m[4]}`),
      path: (m[5] ?? '').trim().replace(/ \(deleted\)$/, ''), executable: (m[3] ?? '').includes('x'),
    });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Address ranges with names, sorted by start: a perf map or an ELF symbol table. */
export interface SymbolTable {
  readonly starts: BigUint64Array;
  readonly ends: BigUint64Array;
  readonly names: readonly string[];
}

function toTable(rows: Array<[bigint, bigint, string]>): SymbolTable {
  // Stable sort: of two entries at one address the later one wins the lookup, as in perf (JIT code moved).
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { starts: BigUint64Array.from(rows.map((r) => r[0])), ends: BigUint64Array.from(rows.map((r) => r[1])), names: rows.map((r) => r[2]) };
}

/** The name of the range containing `addr` (the last starting at or below it), or null. */
export function lookupSymbol(table: SymbolTable, addr: bigint): string | null {
  let lo = 0;
  let hi = table.starts.length - 1;
  if (hi < 0 || addr < (table.starts[0] as bigint)) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((table.starts[mid] as bigint) <= addr) lo = mid;
    else hi = mid - 1;
  }
  return addr < (table.ends[lo] as bigint) ? (table.names[lo] ?? null) : null;
}

/** Parses a perf map ("START SIZE name", hex without 0x, one per line; perf's tools/perf/Documentation/jit-interface.txt). */
export function parsePerfMap(text: string): SymbolTable {
  const rows: Array<[bigint, bigint, string]> = [];
  for (const line of text.split('\n')) {
    const m = /^(?:0x)?([0-9a-fA-F]+) (?:0x)?([0-9a-fA-F]+) (.+)$/.exec(line);
    if (m === null) continue;
    const start = BigInt(`0x${m[1]}`);
    rows.push([start, start + BigInt(`0x${m[2]}`), (m[3] as string).trim()]);
  }
  return toTable(rows);
}

/**
 * Parses `nm --defined-only -S -C` output ("VALUE [SIZE] TYPE NAME") into the text symbols (t/T/w/W/i), without
 * symbol versions.
 * A symbol without a size reaches to the next symbol, as perf's symbols__fixup_end does.
 */
export function parseNm(text: string): SymbolTable {
  const rows: Array<[bigint, bigint | null, string]> = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+) (?:([0-9a-f]+) )?([tTwWi]) (.+)$/.exec(line);
    if (m === null) continue;
    // Dynamic symbols carry their version ("send@@GLIBC_2.2.5"); perf shows the bare name.
    rows.push([BigInt(`0x${m[1]}`), m[2] === undefined ? null : BigInt(`0x${m[2]}`), (m[4] as string).replace(/@@?[\w.]+$/, '')]);
  }
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const sized: Array<[bigint, bigint, string]> = rows.map((r, i) => {
    const next = rows[i + 1]?.[0] ?? r[0] + 1n;
    return [r[0], r[1] !== null && r[1] > 0n ? r[0] + r[1] : next > r[0] ? next : r[0] + 1n, r[2]];
  });
  return toTable(sized);
}

/** A PT_LOAD segment: file offset and virtual address of its start, and its size in the file. */
export interface LoadSegment {
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly fileSize: bigint;
}

/** Parses the LOAD lines of `readelf -lW` (program headers). */
export function parseLoadSegments(text: string): LoadSegment[] {
  const out: LoadSegment[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)/.exec(line);
    if (m !== null) out.push({ offset: BigInt(`0x${m[1]}`), vaddr: BigInt(`0x${m[2]}`), fileSize: BigInt(`0x${m[3]}`) });
  }
  return out;
}

/** What an ELF file gives for naming: its function symbols, its load segments, and whether it is stripped. */
export interface ElfSymbols {
  readonly symbols: SymbolTable;
  readonly segments: readonly LoadSegment[];
  /** No .symtab: only the dynamic (exported) symbols name frames; the rest show as the file's name. */
  readonly stripped: boolean;
}

/** The ELF virtual address of `ip` in `mapping` (perf's map__map_ip then the segment's p_vaddr - p_offset), or null. */
export function elfAddress(elf: ElfSymbols, mapping: Mapping, ip: bigint): bigint | null {
  const fileOffset = ip - mapping.start + mapping.offset;
  for (const s of elf.segments) {
    if (fileOffset >= s.offset && fileOffset < s.offset + s.fileSize) return fileOffset - s.offset + s.vaddr;
  }
  return null;
}

/**
 * Runs binutils (nm, readelf) on a file. Binutils rather than an ELF parser of our own: it demangles C++ as
 * perf does and no maintained npm ELF reader reads both .symtab and .dynsym; one nm of node (~100 k symbols)
 * takes ~0.7 s and is cached per file for the life of the process.
 */
export type RunTool = (command: string, args: readonly string[]) => string;

const runTool: RunTool = (command, args) => execFileSync(command, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });

/** Symbols of an ELF file: .symtab when present, else .dynsym (marked stripped); null when the file cannot be read. */
export function readElfSymbols(file: string, run: RunTool = runTool): ElfSymbols | null {
  try {
    const segments = parseLoadSegments(run('readelf', ['-lW', file]));
    if (segments.length === 0) return null;
    const full = parseNm(run('nm', ['--defined-only', '-S', '-C', file]));
    if (full.starts.length > 0) return { symbols: full, segments, stripped: false };
    return { symbols: parseNm(run('nm', ['-D', '--defined-only', '-S', '-C', file])), segments, stripped: true };
  } catch {
    return null;
  }
}

const elfCache = new Map<string, ElfSymbols | null>();

function cachedElfSymbols(file: string): ElfSymbols | null {
  if (!elfCache.has(file)) elfCache.set(file, readElfSymbols(file));
  return elfCache.get(file) ?? null;
}

/** Mappings snapshotted while the process lived, by pid; kept until its stacks are symbolised. */
const remembered = new Map<number, Mapping[]>();
/** Pids whose perf map meshbench caused (it started them with perfMapNodeFlag) and must remove. */
const ownPerfMaps = new Set<number>();
let exitHookInstalled = false;

function readMaps(pid: number): Mapping[] | null {
  try {
    return parseProcMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

/**
 * Marks the perf map of `pid` as meshbench's to remove: call it as soon as a process started with
 * perfMapNodeFlag exists. Removal happens when its stacks are symbolised after it exited (userSymbolizer), by
 * removePerfMap, when the next such process starts after it exited, or at the latest when meshbench exits
 * (only a `kill -9` of meshbench itself leaves the file).
 */
export function ownPerfMap(pid: number): void {
  // Processes are started one measurement at a time and the last one's stacks are read before the next starts,
  // so the maps of exited processes are no longer needed (e.g. clients of steps that sampled no stacks).
  for (const p of [...ownPerfMaps]) if (!alive(p)) removePerfMap(p);
  ownPerfMaps.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => { for (const p of [...ownPerfMaps]) removePerfMap(p); });
  }
}

/**
 * Called while a process meshbench started with perfMapNodeFlag runs and has loaded its libraries (the load
 * client once it measures): snapshots its mappings so its stacks can be named after it exits, and owns its
 * perf map (ownPerfMap).
 */
export function rememberProcess(pid: number): void {
  const maps = readMaps(pid);
  if (maps !== null) remembered.set(pid, maps);
  ownPerfMap(pid);
}

/** Removes the perf map of `pid` if meshbench caused it (rememberProcess) and forgets the process. */
export function removePerfMap(pid: number): void {
  remembered.delete(pid);
  if (!ownPerfMaps.delete(pid)) return;
  try {
    fs.unlinkSync(perfMapFile(pid));
  } catch {
    // never written (the process died first) or already gone
  }
}

/**
 * A demangled C++ name without its argument list ("node::Start(int, char**)" → "node::Start"), as
 * stackcollapse-perf.pl's tidy_generic does: the arguments make frames wide and rarely tell the reader more.
 * Go-style method names ("net/http.(*Client).Do") are kept whole, as there.
 */
export function tidyNativeName(name: string): string {
  if (/\.\(.*\)\./.test(name)) return name;
  const paren = name.indexOf('(');
  return paren > 0 ? name.slice(0, paren) : name;
}

/** Names one address given a process's mappings, perf map and an ELF reader (pure apart from `elf`). */
export function symbolizeAddress(ip: bigint, maps: readonly Mapping[], perfMap: SymbolTable | null, elf: (file: string) => ElfSymbols | null): string | null {
  const jit = perfMap === null ? null : lookupSymbol(perfMap, ip);
  if (jit !== null) return jit;
  const mapping = findMapping(maps, ip);
  // A return address outside executable memory ([heap], [stack], data) is what a frame-pointer walk reads
  // through code built without frame pointers (Debian's haproxy): garbage, so unknown, as perf has it (it
  // resolves user code against executable mappings only).
  if (mapping === undefined || !mapping.executable) return null;
  if (mapping.path === '' || mapping.path.startsWith('[')) {
    // [vdso], [vsyscall]; anonymous executable memory is JIT code the perf map does not name.
    return mapping.path === '' ? null : mapping.path;
  }
  const e = elf(mapping.path);
  if (e !== null) {
    const addr = elfAddress(e, mapping, ip);
    const name = addr === null ? null : lookupSymbol(e.symbols, addr);
    if (name !== null) return tidyNativeName(name);
  }
  return `[${path.basename(mapping.path)}]`;
}

function findMapping(maps: readonly Mapping[], ip: bigint): Mapping | undefined {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = maps[mid] as Mapping;
    if (ip < m.start) hi = mid - 1;
    else if (ip >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}

/**
 * A symboliser for the user frames of process `pid`: JIT frames from its perf map, native frames from the
 * ELF symbols of the file they fall in (.symtab, else .dynsym of a stripped file), else "[file]" for the
 * mapping; null (printed "[unknown]") for an address in no known mapping. Uses the live mappings, or the
 * snapshot rememberProcess took if the process has exited; then removes the perf map of an exited process
 * meshbench started, since nothing can add to it any more.
 */
export function userSymbolizer(pid: number): Symbolize {
  const live = readMaps(pid);
  const maps = live ?? remembered.get(pid) ?? [];
  let perfMap: SymbolTable | null = null;
  try {
    perfMap = parsePerfMap(fs.readFileSync(perfMapFile(pid), 'utf8'));
  } catch {
    // no perf map: not a JIT, or not started with the flag
  }
  if (ownPerfMaps.has(pid) && !alive(pid)) removePerfMap(pid);
  return (ip) => symbolizeAddress(ip, maps, perfMap, cachedElfSymbols);
}
