import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import {
  lookupSymbol, ownPerfMap, parsePerfMap, parseProcMaps, perfMapFile, perfMapNodeFlag, readElfSymbols, rememberProcess, removePerfMap, userSymbolizer,
} from '../../harness/probes/userSymbols';

/*
 * Symbolisation against a real Node process started the way the netns platform starts the load client
 * (with perfMapNodeFlag), and against Debian's stripped haproxy: a JS function is named from the perf map
 * after the process has exited, a native frame from node's symbol table, and the perf map is gone afterwards.
 * Creates no system state apart from the process and its /tmp/perf-PID.map, both removed here.
 */

const hot = 'meshbenchHotFunction';
const script = `function ${hot}(n) { let s = 0; for (let i = 0; i < n; i += 1) s += Math.sqrt(i); return s; }
let t = 0; setInterval(() => { t += ${hot}(20000); }, 1); process.stdout.write('up\\n');`;

function waitFor<T>(what: string, probe: () => T | null, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const v = probe();
      if (v !== null) resolve(v);
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

describe('user-space symbols of real processes', function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child?.pid !== undefined) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      removePerfMap(child.pid);
      fs.rmSync(perfMapFile(child.pid), { force: true });
    }
    child = undefined;
  });

  it('names a JS function from V8\'s perf map and a native frame from node\'s symbols after the process exited, then removes the map', async () => {
    child = spawn(process.execPath, [perfMapNodeFlag, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = child.pid as number;
    const map = perfMapFile(pid);
    // Optimised or not, the function appears in the map once V8 compiles it.
    const entry = await waitFor('the hot function in the perf map', () => {
      if (!fs.existsSync(map)) return null;
      const table = parsePerfMap(fs.readFileSync(map, 'utf8'));
      const i = table.names.findIndex((n) => n.includes(hot));
      return i < 0 ? null : { ip: (table.starts[i] as bigint) + 1n, name: table.names[i] as string };
    }, 20_000);
    const maps = parseProcMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    rememberProcess(pid);
    // An address inside uv_run, placed the way the kernel maps node's text (file offset → mapping).
    const node = readElfSymbols(fs.realpathSync(process.execPath));
    assert.ok(node !== null && !node.stripped, 'node has a symbol table');
    const i = node.symbols.names.indexOf('uv_run');
    assert.ok(i >= 0, 'uv_run is in node\'s symbol table');
    const vaddr = (node.symbols.starts[i] as bigint) + 4n;
    const seg = node.segments.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.fileSize);
    assert.ok(seg !== undefined);
    const fileOffset = vaddr - seg.vaddr + seg.offset;
    const text = maps.find((m) => m.path === fs.realpathSync(process.execPath) && fileOffset >= m.offset && fileOffset < m.offset + (m.end - m.start));
    assert.ok(text !== undefined, 'node\'s text is mapped');
    const nativeIp = text.start + (fileOffset - text.offset);

    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    await waitFor('the process to be reaped', () => (fs.existsSync(`/proc/${pid}`) ? null : true), 5000);
    assert.ok(fs.existsSync(map), 'the perf map outlives the process');

    const symbolize = userSymbolizer(pid);
    assert.equal(symbolize(entry.ip), entry.name);
    assert.match(entry.name, new RegExp(`^JS:[*~^]?${hot} `));
    assert.equal(symbolize(nativeIp), 'uv_run');
    assert.equal(fs.existsSync(map), false, 'the map of an exited process meshbench started is removed once read');
  });

  it('leaves the perf map of a process meshbench did not start, and of one still running', async () => {
    child = spawn(process.execPath, [perfMapNodeFlag, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = child.pid as number;
    await waitFor('the perf map', () => (fs.existsSync(perfMapFile(pid)) ? true : null), 20_000);
    userSymbolizer(pid);
    assert.ok(fs.existsSync(perfMapFile(pid)), 'not ours: kept');
    rememberProcess(pid);
    userSymbolizer(pid);
    assert.ok(fs.existsSync(perfMapFile(pid)), 'ours but running: kept, V8 still writes it');
    removePerfMap(pid);
    assert.equal(fs.existsSync(perfMapFile(pid)), false, 'removed when the caller is done with it');
  });

  it('removes the map of an exited process it owns when the next one starts (a step that read no stacks)', async () => {
    const first = spawn(process.execPath, [perfMapNodeFlag, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    const firstPid = first.pid as number;
    try {
      ownPerfMap(firstPid);
      await waitFor('the first perf map', () => (fs.existsSync(perfMapFile(firstPid)) ? true : null), 20_000);
      first.kill('SIGKILL');
      await waitFor('the first process to be reaped', () => (fs.existsSync(`/proc/${firstPid}`) ? null : true), 5000);
      assert.ok(fs.existsSync(perfMapFile(firstPid)));
      child = spawn(process.execPath, [perfMapNodeFlag, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      ownPerfMap(child.pid as number);
      assert.equal(fs.existsSync(perfMapFile(firstPid)), false);
    } finally {
      first.kill('SIGKILL');
      fs.rmSync(perfMapFile(firstPid), { force: true });
    }
  });

  it('reads Debian\'s stripped haproxy from its dynamic symbols', function () {
    if (!fs.existsSync('/usr/sbin/haproxy')) this.skip();
    const h = readElfSymbols('/usr/sbin/haproxy');
    assert.ok(h !== null);
    assert.equal(h.stripped, true);
    assert.ok(h.symbols.names.length > 500, `${h.symbols.names.length} dynamic symbols`);
    const i = h.symbols.names.indexOf('process_stream');
    assert.ok(i >= 0, 'process_stream is exported');
    assert.equal(lookupSymbol(h.symbols, (h.symbols.starts[i] as bigint) + 1n), 'process_stream');
  });
});
