import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as bpf from '../../bpf/bpfBindings';
import { isRoot } from './netnsLeftovers';
import { settledBpfLeftovers } from './bpfLeftovers';
import { EmptyHooks, emptyTwins } from '../../ci/bench/emptyHooks';
import { probeDefinitions } from '../../harness/probes/probeSet';
import { extrasProbe } from '../../harness/probes/extrasProbe';

/*
 * The addon's verbs end to end on the selftest object: open, rodata, load, attach, map and ring-buffer reads,
 * detach, close; perf counters; typed errors; nothing left in the kernel afterwards.
 */
describe('bpf addon (root)', function () {
  this.timeout(30_000);
  let h: bpf.ObjectHandle | undefined;

  before(function () {
    if (!isRoot()) this.skip();
  });

  afterEach(() => {
    if (h !== undefined) bpf.close(h);
    h = undefined;
  });

  after(async () => {
    if (!isRoot()) return;
    assert.deepEqual(bpf.openHandles(), { objects: 0, links: 0, perfFds: 0 });
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('loads a raw tracepoint program, counts this process, reads map and ring buffer, detaches', () => {
    assert.ok(bpf.embeddedObjects().includes('selftest'));
    h = bpf.openObject('selftest');
    const tgid = Buffer.alloc(4);
    tgid.writeUInt32LE(process.pid);
    bpf.setRodata(h, 'target_tgid', tgid);
    bpf.load(h);
    const info = bpf.describeObject(h);
    assert.deepEqual(info.programs.map((p) => p.name), ['mb_selftest', 'mb_probe_tpbtf']);
    const link = bpf.attach(h, 'mb_selftest');
    for (let i = 0; i < 50; i += 1) fs.statSync('/');
    bpf.detach(link);
    const key = Buffer.alloc(4);
    const count = bpf.mapLookup(h, 'counts', key)?.readBigUInt64LE(0) ?? 0n;
    assert.ok(count >= 50n, `counted ${count} syscalls`);
    const events = bpf.ringBufferPoll(h, 'events');
    assert.ok(events.length >= 50 && events.every((e) => e.length === 8));
    assert.deepEqual(bpf.ringBufferPoll(h, 'events'), []);
    assert.equal(bpf.mapDump(h, 'counts').length, 1);
    assert.equal(bpf.mapClear(h, 'counts'), 1);
    assert.equal(bpf.mapLookup(h, 'counts', key)?.readBigUInt64LE(0), 0n);
    assert.equal(bpf.openHandles().links, 0);
  });

  it('updates, looks up and deletes hash entries with checked sizes', () => {
    h = bpf.openObject('selftest');
    bpf.load(h);
    assert.throws(() => bpf.mapUpdate(h!, 'counts', Buffer.alloc(3), Buffer.alloc(8)), /key must be 4 bytes/);
    bpf.mapUpdate(h, 'counts', Buffer.alloc(4), Buffer.from([7, 0, 0, 0, 0, 0, 0, 0]));
    assert.equal(bpf.mapLookup(h, 'counts', Buffer.alloc(4))?.[0], 7);
  });

  it('opens, reads and closes software perf counters', () => {
    const fd = bpf.perfEventOpen({ type: bpf.PerfType.software, config: bpf.PerfSoftwareCounter.taskClock, pid: 0, cpu: -1 });
    let x = 0;
    for (let i = 0; i < 1e6; i += 1) x += i;
    assert.ok(x > 0);
    assert.ok(bpf.perfEventRead(fd) > 0n);
    bpf.perfEventClose(fd);
    bpf.perfEventClose(fd);
    assert.throws(() => bpf.perfEventRead(fd), (e: unknown) => e instanceof bpf.BpfError && e.code === 'EBADF');
  });

  it('turns native failures into typed errors with one clear line', () => {
    assert.throws(() => bpf.openObject('no_such_object'), (e: unknown) => e instanceof bpf.BpfError && e.code === 'ENOOBJECT' && /no BPF object named no_such_object/.test(e.userLine()));
    h = bpf.openObject('selftest');
    assert.throws(() => bpf.attach(h!, 'mb_selftest'), /must be loaded/);
    assert.throws(() => bpf.setRodata(h!, 'nope', Buffer.alloc(4)), /no const volatile variable nope/);
    bpf.load(h);
    assert.throws(() => bpf.attach(h!, 'missing'), (e: unknown) => e instanceof bpf.BpfError && e.code === 'ENOPROG');
    assert.throws(() => bpf.attachCgroup(h!, 'mb_selftest', '/sys/fs/cgroup/unified/meshbench/does-not-exist'), (e: unknown) => e instanceof bpf.BpfError && e.code === 'ENOCGROUP');
  });

  it('has an empty twin for every probe hook (bench:probes\' dispatch floor), and the twins attach', () => {
    const sections = new Set<string>();
    for (const def of [...Object.values(probeDefinitions), extrasProbe]) {
      const o = bpf.openObject(def.object);
      try {
        for (const p of bpf.describeObject(o).programs) sections.add(p.section);
      } finally {
        bpf.close(o);
      }
    }
    const twins = emptyTwins();
    assert.deepEqual([...sections].filter((s) => !twins.has(s)), []);
    assert.throws(() => new EmptyHooks(['tp_btf/no_such_tracepoint']), /no empty twin for hook tp_btf\/no_such_tracepoint/);
    const tracepoints = [...sections].filter((s) => s.startsWith('tp_btf/') || s.startsWith('raw_tp/'));
    const floor = new EmptyHooks(tracepoints);
    try {
      floor.attach();
      assert.equal(bpf.openHandles().links, tracepoints.length);
      floor.detach();
      assert.equal(bpf.openHandles().links, 0);
    } finally {
      floor.close();
    }
  });
});
