import assert from 'node:assert/strict';
import { foldStacks, isNamedFrame, namedLeafShare } from '../../harness/probes/foldedStacks';
import {
  tidyNativeName, elfAddress, lookupSymbol, parseLoadSegments, parseNm, parsePerfMap, parseProcMaps, readElfSymbols, symbolizeAddress,
  type ElfSymbols, type RunTool,
} from '../../harness/probes/userSymbols';

// Lines as the real tools print them (node 20 on Debian 12, haproxy 2.6 from Debian).
const procMaps = [
  '00400000-00b6f000 r--p 00000000 08:01 1181 /usr/bin/node',
  '00b6f000-00b71000 r-xp 0076f000 08:01 1181 /usr/bin/node',
  '00b72000-025fe000 r-xp 00772000 08:01 1181 /usr/bin/node',
  '1c1e0a840000-1c1e0a880000 rwxp 00000000 00:00 0 ',
  '02a4e000-02b6f000 rw-p 00000000 00:00 0                                  [heap]',
  '7f5e6241e000-7f5e62444000 r--p 00000000 08:01 2041 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f5e62444000-7f5e62599000 r-xp 00026000 08:01 2041 /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7ffd1b7f1000-7ffd1b7f3000 r-xp 00000000 00:00 0                          [vdso]',
  'not a maps line',
].join('\n');

const nodeReadelf = `
Program Headers:
  Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align
  PHDR           0x000040 0x0000000000400040 0x0000000000400040 0x000310 0x000310 R   0x8
  LOAD           0x000000 0x0000000000400000 0x0000000000400000 0x76e5d8 0x76e5d8 R   0x1000
  LOAD           0x76f000 0x0000000000b6f000 0x0000000000b6f000 0x001e90 0x001e90 R E 0x1000
  LOAD           0x772000 0x0000000000b72000 0x0000000000b72000 0x1a8bca0 0x1a8bca0 R E 0x1000
`;

const libcReadelf = `
  LOAD           0x000000 0x0000000000000000 0x0000000000000000 0x026000 0x026000 R   0x1000
  LOAD           0x026000 0x0000000000026000 0x0000000000026000 0x155000 0x155000 R E 0x1000
`;

describe('user-space symbols', () => {
  it('parses /proc/PID/maps: ranges, file offsets, paths, anonymous and special mappings', () => {
    const maps = parseProcMaps(procMaps);
    assert.equal(maps.length, 8);
    assert.deepEqual(maps[2], { start: 0xb72000n, end: 0x25fe000n, offset: 0x772000n, path: '/usr/bin/node', executable: true });
    assert.equal(maps[3]?.path, '[heap]');
    assert.equal(maps[3]?.executable, false);
    assert.equal(maps[4]?.path, '');
    assert.equal(maps[7]?.path, '[vdso]');
    assert.equal(parseProcMaps('7f00-7f10 r-xp 00000000 08:01 5 /tmp/x.so (deleted)')[0]?.path, '/tmp/x.so');
  });

  it('parses a V8 perf map; of two entries at one address the later wins; gaps and ends are misses', () => {
    const map = parsePerfMap('3f00 20 JS:*first a.js:1\n3f00 10 JS:*moved a.js:1\n4000 40 JS:~handler b.js:2:3\ngarbage\n');
    assert.equal(lookupSymbol(map, 0x3f05n), 'JS:*moved a.js:1');
    assert.equal(lookupSymbol(map, 0x3f10n), null, 'past the end of the entry that wins');
    assert.equal(lookupSymbol(map, 0x403fn), 'JS:~handler b.js:2:3');
    assert.equal(lookupSymbol(map, 0x4040n), null);
    assert.equal(lookupSymbol(map, 0x10n), null);
  });

  it('parses nm output: text symbols only, sizes, demangled names with spaces, unsized symbols reach the next', () => {
    const t = parseNm([
      '0000000000b72000 0000000000000026 T _init',
      '0000000000c00000 0000000000000100 t v8::internal::Heap::Scavenge(int, bool)',
      '0000000000c00200 T Builtins_JSEntry',
      '0000000000c00300 0000000000000010 i memcpy',
      '0000000000c00400 0000000000000010 T send@@GLIBC_2.2.5',
      '0000000000c00500 0000000000000010 W clock_gettime@GLIBC_2.2.5',
      '0000000000d00000 0000000000000008 D some_data',
      '                 U imported',
    ].join('\n'));
    assert.equal(t.names.length, 6);
    assert.equal(lookupSymbol(t, 0xc00401n), 'send', 'symbol versions dropped');
    assert.equal(lookupSymbol(t, 0xc00501n), 'clock_gettime');
    assert.equal(lookupSymbol(t, 0xc000ffn), 'v8::internal::Heap::Scavenge(int, bool)');
    assert.equal(lookupSymbol(t, 0xc00100n), null, 'sized: ends where nm says');
    assert.equal(lookupSymbol(t, 0xc002ffn), 'Builtins_JSEntry', 'unsized: up to the next symbol');
    assert.equal(lookupSymbol(t, 0xc00305n), 'memcpy');
    assert.equal(lookupSymbol(t, 0xd00000n), null, 'data symbols never name code');
  });

  it('maps an address through the mapping offset and the load segment to the ELF virtual address', () => {
    const segments = parseLoadSegments(nodeReadelf);
    assert.deepEqual(segments.map((s) => s.offset), [0n, 0x76f000n, 0x772000n]);
    const elf: ElfSymbols = { symbols: parseNm(''), segments, stripped: false };
    const maps = parseProcMaps(procMaps);
    // Non-PIE node: the address is its own virtual address.
    assert.equal(elfAddress(elf, maps[2] as (typeof maps)[number], 0xc00010n), 0xc00010n);
    // A PIE library loaded at 0x7f5e6241e000: virtual address = file offset here.
    const libc: ElfSymbols = { symbols: parseNm(''), segments: parseLoadSegments(libcReadelf), stripped: true };
    assert.equal(elfAddress(libc, maps[6] as (typeof maps)[number], 0x7f5e62444000n + 0x1234n), 0x26000n + 0x1234n);
  });

  it('names JIT frames from the perf map, native frames from ELF symbols, else the file, else null', () => {
    const maps = parseProcMaps(procMaps);
    const perfMap = parsePerfMap('1c1e0a840100 80 JS:*onStreamRead node:internal/stream_base_commons:163:20\n');
    const symbols: Record<string, ElfSymbols> = {
      '/usr/bin/node': { symbols: parseNm('0000000000c00000 0000000000000100 T uv_run\n0000000000c00200 0000000000000100 T node::Start(int, char**)'), segments: parseLoadSegments(nodeReadelf), stripped: false },
      '/usr/lib/x86_64-linux-gnu/libc.so.6': { symbols: parseNm('0000000000026100 0000000000000040 T __libc_read'), segments: parseLoadSegments(libcReadelf), stripped: true },
    };
    const elf = (f: string): ElfSymbols | null => symbols[f] ?? null;
    const name = (ip: bigint): string | null => symbolizeAddress(ip, maps, perfMap, elf);
    assert.equal(name(0x1c1e0a840120n), 'JS:*onStreamRead node:internal/stream_base_commons:163:20');
    assert.equal(name(0x1c1e0a840400n), null, 'JIT code the perf map does not name');
    assert.equal(name(0xc00050n), 'uv_run');
    assert.equal(name(0xc00150n), '[node]', 'in node, but in no symbol');
    assert.equal(name(0xc00210n), 'node::Start', 'C++ argument lists dropped, as stackcollapse-perf.pl does');
    assert.equal(name(0x7f5e62444000n + 0x120n), '__libc_read');
    assert.equal(name(0x7f5e62444000n + 0x900n), '[libc.so.6]', 'stripped libc: only exported symbols name frames');
    assert.equal(name(0x7ffd1b7f1010n), '[vdso]');
    assert.equal(name(0x10n), null);
    assert.equal(name(0x2a4e010n), null, 'a "return address" in the heap is a broken frame-pointer walk');
    assert.equal(symbolizeAddress(0xc00050n, maps, null, () => null), '[node]', 'an unreadable file gives its name');
  });

  it('drops C++ argument lists but keeps Go method names whole', () => {
    assert.equal(tidyNativeName('v8::internal::Heap::Scavenge(int, bool)'), 'v8::internal::Heap::Scavenge');
    assert.equal(tidyNativeName('net/http.(*Client).Do'), 'net/http.(*Client).Do');
    assert.equal(tidyNativeName('uv_run'), 'uv_run');
    assert.equal(tidyNativeName('(anonymous namespace)::f()'), '(anonymous namespace)::f()');
  });

  it('reads .symtab when the file has one and falls back to .dynsym, marked stripped, when it does not', () => {
    const calls: string[] = [];
    const fake = (symtab: string): RunTool => (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      if (cmd === 'readelf') return nodeReadelf;
      return args.includes('-D') ? '0000000000c00000 0000000000000010 T exported_fn\n' : symtab;
    };
    const full = readElfSymbols('/usr/bin/node', fake('0000000000c00000 0000000000000010 T uv_run\n'));
    assert.equal(full?.stripped, false);
    assert.equal(full === null ? null : lookupSymbol(full.symbols, 0xc00001n), 'uv_run');
    const stripped = readElfSymbols('/usr/sbin/haproxy', fake(''));
    assert.equal(stripped?.stripped, true);
    assert.equal(stripped === null ? null : lookupSymbol(stripped.symbols, 0xc00001n), 'exported_fn');
    assert.ok(calls.includes('nm -D --defined-only -S -C /usr/sbin/haproxy'));
    assert.equal(readElfSymbols('/nonexistent', () => { throw new Error('nm: no such file'); }), null);
  });

  it('folds a run of unnamed frames into one [unknown], user and kernel alike, but never into the comm', () => {
    const names: Record<string, string | null> = { '1': 'main', '2': null, '3': null, '4': null, '5': 'JS:*work x.js:1', '6': null };
    const folded = foldStacks(
      [
        // Leaf first, as the kernel stores them.
        { cgroupId: '7', pid: 1, comm: 'node', kernelIps: [0xa2n, 0xa1n, 0xa0n], userIps: [6n, 5n, 4n, 3n, 2n, 1n], count: 4 },
        { cgroupId: '7', pid: 1, comm: '', kernelIps: [], userIps: [3n, 2n], count: 1 },
      ],
      (ip) => (ip === 0xa0n ? 'entry_SYSCALL_64' : null),
      () => (ip) => names[String(ip)] ?? null,
    );
    assert.equal(folded.get('7'), [
      'node;main;[unknown];JS:*work_x.js:1;[unknown];entry_SYSCALL_64_[k];[unknown]_[k] 4',
      '[unknown];[unknown] 1',
    ].join('\n'));
  });

  it('counts the user-mode samples whose leaf is a named frame (the flame-graph bar of issue 14)', () => {
    assert.equal(isNamedFrame('JS:*onStreamRead_node:internal/stream_base_commons:163:20'), true);
    assert.equal(isNamedFrame('v8::internal::Heap::Scavenge()'), true);
    for (const f of ['[unknown]', '[node]', '[libc.so.6]', '[vdso]', '']) assert.equal(isNamedFrame(f), false, f);
    const s = namedLeafShare([
      'node;uv_run;Builtins_JSEntry 6',
      'node;uv_run;[node] 2',
      'node;[unknown] 1',
      'node;uv_run;read;entry_SYSCALL_64_[k];tcp_recvmsg_[k] 50', // in the kernel: not a user-space sample
      'node 9', // no user frame captured
      'bad line',
    ].join('\n'));
    assert.deepEqual(s, { userSamples: 9, namedLeafSamples: 6, share: 6 / 9 });
    assert.deepEqual(namedLeafShare(''), { userSamples: 0, namedLeafSamples: 0, share: null });
  });
});
