import assert from 'node:assert/strict';
import { copyProbe } from '../../harness/probes/copyProbe';
import { connectionsProbe } from '../../harness/probes/connectionsProbe';
import { deviceRows, threadTotals } from '../../harness/probes/counterSources';
import {
  parseContextSwitches, parseProcNetDev, parseSchedstat, parseSnmp, parseStartTicks, type TaskCounters,
} from '../../harness/probes/kernelCounters';
import { mergeParts } from '../../harness/probes/probeDefinition';
import { emptyRecord, perRequest } from '../../harness/probes/probeRecord';
import { formatProbeReport } from '../../harness/probes/probeReport';
import { maxSyscallNr, syscallsProbe } from '../../harness/probes/syscallsProbe';
import { scaleCount, TimeSlicer, type SliceTimers } from '../../harness/probes/timeSlicer';

/* The lean hook set's pure parts: /proc parsers, counter differences, time slicing and the derived figures. */

function u64s(values: readonly number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), i * 8));
  return b;
}

function key32(index: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(index);
  return b;
}

const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 1000 10    0    0    0     0          0         0 1000 10    0    0    0     0       0          0
  eth0: 5000 20    0    0    0     0          0         0 7000 30    0    0    0     0       0          0
`;

/** A fake clock and timer queue: the schedule runs as fast as the test advances it. */
function fakeTimers(): SliceTimers & { advance(ms: number): void } {
  let now = 0n;
  let queue: Array<{ at: bigint; fn: () => void; id: number }> = [];
  let next = 0;
  return {
    nowNs: () => now,
    setTimeout: (fn, ms) => {
      next += 1;
      queue.push({ at: now + BigInt(ms) * 1_000_000n, fn, id: next });
      return next;
    },
    clearTimeout: (h) => { queue = queue.filter((t) => t.id !== h); },
    advance(ms: number) {
      const end = now + BigInt(ms) * 1_000_000n;
      for (;;) {
        queue.sort((a, b) => (a.at < b.at ? -1 : 1));
        const t = queue[0];
        if (t === undefined || t.at > end) break;
        queue.shift();
        now = t.at;
        t.fn();
      }
      now = end;
    },
  };
}

describe('lean probes (pure)', () => {
  it('parses /proc/net/dev, the TCP MIB and the per-thread scheduler files', () => {
    assert.deepEqual(parseProcNetDev(netDev), [
      { device: 'lo', rxBytes: 1000, rxPackets: 10, txBytes: 1000, txPackets: 10 },
      { device: 'eth0', rxBytes: 5000, rxPackets: 20, txBytes: 7000, txPackets: 30 },
    ]);
    const snmp = parseSnmp('Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RetransSegs OutRsts\nTcp: 1 67 6558\n');
    assert.equal(snmp.get('Tcp.RetransSegs'), 67);
    assert.equal(snmp.get('Tcp.OutRsts'), 6558);
    assert.equal(snmp.get('Ip.DefaultTTL'), 64);
    assert.deepEqual(parseContextSwitches('Name:\tnode\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n'), { voluntary: 12, involuntary: 3 });
    assert.equal(parseContextSwitches('Name:\tnode\n'), null);
    assert.deepEqual(parseSchedstat('579307 4326812 3\n'), { onCpuNs: 579307, runqDelayNs: 4326812, timeslices: 3 });
    assert.equal(parseSchedstat('garbage'), null);
    // a command name with spaces and a ')' must not shift the fields
    assert.equal(parseStartTicks('27292 (a) b) R 27284 27284 5045 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 76031 3133440 385'), 76031);
  });

  it('differences device counters per direction, and counts a re-created device from 0', () => {
    const before = parseProcNetDev(netDev);
    const after = [
      { device: 'lo', rxBytes: 1600, rxPackets: 16, txBytes: 1600, txPackets: 16 },
      { device: 'eth0', rxBytes: 50, rxPackets: 1, txBytes: 70, txPackets: 2 },
      { device: 'veth1', rxBytes: 0, rxPackets: 0, txBytes: 90, txPackets: 1 },
    ];
    assert.deepEqual(deviceRows(before, after, 42), [
      { device: 'eth0', netns: 42, direction: 'rx', packets: 1, bytes: 50 },
      { device: 'eth0', netns: 42, direction: 'tx', packets: 2, bytes: 70 },
      { device: 'lo', netns: 42, direction: 'rx', packets: 6, bytes: 600 },
      { device: 'lo', netns: 42, direction: 'tx', packets: 6, bytes: 600 },
      { device: 'veth1', netns: 42, direction: 'tx', packets: 1, bytes: 90 },
    ]);
  });

  it('sums thread differences, counts a new thread whole and says how many threads left', () => {
    const t = (start: number, v: number, n: number, on: number, rq: number): TaskCounters => ({ startTicks: start, voluntary: v, involuntary: n, onCpuNs: on, runqDelayNs: rq, timeslices: v + n });
    const before = new Map([[10, t(1, 5, 1, 100, 10)], [11, t(1, 7, 0, 50, 5)], [12, t(1, 1, 1, 1, 1)]]);
    // 10 goes on; 11 exited and its tid was reused by a new thread; 12 exited; 13 was born
    const after = new Map([[10, t(1, 9, 2, 300, 15)], [11, t(2, 3, 0, 20, 2)], [13, t(3, 4, 1, 40, 4)]]);
    assert.deepEqual(threadTotals(before, after), { voluntary: 4 + 3 + 4, involuntary: 1 + 0 + 1, onCpuNs: 200 + 20 + 40, runqDelayNs: 5 + 2 + 4, exited: 2 });
  });

  it('slices a hook perf-style: attached onMs of every periodMs, share measured from the edges', () => {
    const timers = fakeTimers();
    const events: string[] = [];
    const slicer = new TimeSlicer({ onMs: 50, periodMs: 400 }, () => events.push('on'), () => events.push('off'), timers);
    slicer.start();
    timers.advance(1000); // on at 0, 400, 800; off at 50, 450, 850
    const r = slicer.stop();
    assert.deepEqual(events, ['on', 'off', 'on', 'off', 'on', 'off']);
    assert.equal(r.slices, 3);
    assert.equal(r.runningNs, 150_000_000);
    assert.equal(r.windowNs, 1_000_000_000);
    assert.equal(r.share, 0.15);
    assert.equal(scaleCount(300, r.share), 2000);
    assert.equal(scaleCount(5, 0), null);
    // stopping inside a slice closes it there
    const t2 = fakeTimers();
    const s2 = new TimeSlicer({ onMs: 50, periodMs: 400 }, () => undefined, () => undefined, t2);
    s2.start();
    t2.advance(420);
    t2.advance(10); // 430: attached since 400
    assert.equal(s2.stop().runningNs, 80_000_000);
    assert.throws(() => new TimeSlicer({ onMs: 0, periodMs: 400 }, () => undefined, () => undefined, t2), RangeError);
    assert.throws(() => new TimeSlicer({ onMs: 500, periodMs: 400 }, () => undefined, () => undefined, t2), RangeError);
  });

  it('scales sliced syscall counts by the share and says so; exact counts stay exact', () => {
    const dump = (): Array<[Buffer, Buffer]> => [[key32(1), u64s([100, 0])], [key32(maxSyscallNr + 3), u64s([25, 0])]];
    const sliced = syscallsProbe.decode(dump, 1, [7n, 8n], { syscallTime: false }, { attached: new Set(['mb_sys_exit']), countedShare: 0.125 });
    assert.deepEqual(sliced.get('7')?.syscalls, { total: 800, timeUs: null, byName: { write: { count: 800, timeUs: null } }, countedShare: 0.125 });
    assert.equal(sliced.get('8')?.syscalls?.total, 200);
    assert.match(sliced.get('7')?.sources?.syscalls ?? '', /12\.5 % of the window: 100 counted/);
    const exact = syscallsProbe.decode(dump, 1, [7n, 8n], { syscallTime: false }, { attached: new Set(['mb_sys_exit']), countedShare: 1 });
    assert.equal(exact.get('7')?.syscalls?.total, 100);
    assert.equal(exact.get('7')?.sources, undefined);
  });

  it('derives bytes copied from the receive lengths when the skb copy hook is not attached', () => {
    // inet sent, send calls, inet received, recv calls, unix sent, unix received, other sent, other received, skb copied, copies
    const dump = (): Array<[Buffer, Buffer]> => [[key32(0), u64s([10, 1, 300, 3, 0, 40, 0, 5, 0, 0])]];
    const lean = copyProbe.decode(dump, 1, [7n], undefined, { attached: new Set(['mb_send_len', 'mb_recv_len']), countedShare: 1 }).get('7');
    assert.equal(lean?.bytesCopied, 345);
    assert.equal(lean?.copyCalls, null);
    assert.ok(lean?.unmeasured?.copyCalls !== undefined && lean.sources?.bytesCopied !== undefined);
    const full = copyProbe.decode(() => [[key32(0), u64s([10, 1, 300, 3, 0, 40, 0, 5, 345, 4])]], 1, [7n], undefined, { attached: new Set(['mb_send_len', 'mb_recv_len', 'mb_skb_copy']), countedShare: 1 }).get('7');
    assert.equal(full?.bytesCopied, 345);
    assert.equal(full?.copyCalls, 4);
  });

  it('leaves retransmits and resets sent to the namespace counters when their hooks are not attached', () => {
    const hist = new Array<number>(32).fill(0);
    const dump = (): Array<[Buffer, Buffer]> => [[key32(0), u64s([1, 0, 1, 1, 0, 0, 0, 2, 1000, ...hist])]];
    const lean = connectionsProbe.decode(dump, 1, [7n], undefined, { attached: new Set(['mb_sk_state', 'mb_rst_recv']), countedShare: 1 }).get('7');
    assert.ok(lean !== undefined && !('retransmits' in lean) && !('resetsSent' in lean));
    assert.equal(lean.resetsReceived, 2);
    const merged = mergeParts(emptyRecord('7'), [lean, { retransmits: 3, resetsSent: 1, sources: { retransmits: 'Tcp RetransSegs' } }, { unmeasured: { wakeups: 'lean' }, sources: { contextSwitches: 'proc' } }]);
    assert.equal(merged.retransmits, 3);
    assert.equal(merged.resetsReceived, 2);
    assert.deepEqual(merged.sources, { retransmits: 'Tcp RetransSegs', contextSwitches: 'proc' });
    assert.deepEqual(merged.unmeasured, { wakeups: 'lean' });
  });

  it('keeps packets per request null when packets were not measured, and prints what was not', () => {
    const r = { ...emptyRecord('7'), packets: null, wakeups: null, unmeasured: { packets: 'counted on server' }, sources: { contextSwitches: '/proc' } };
    assert.equal(perRequest(r, 10)?.packetsPerRequest, null);
    assert.equal(perRequest({ ...emptyRecord('7'), packets: [{ device: 'lo', netns: 1, direction: 'tx', packets: 20, bytes: 1 }] }, 10)?.packetsPerRequest, 2);
    const text = formatProbeReport({ command: ['x'], exitCode: 0, durationUs: 1, record: r, probes: [] });
    assert.match(text, /packets not measured: counted on server/);
    assert.match(text, /contextSwitches from \/proc/);
    assert.match(text, /\(- wake-ups\)/);
  });
});
