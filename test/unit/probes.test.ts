import assert from 'node:assert/strict';
import { BadInputError } from '../../harness/errors';
import { copyProbe } from '../../harness/probes/copyProbe';
import { packetsProbe } from '../../harness/probes/packetsProbe';
import { connectionsProbe } from '../../harness/probes/connectionsProbe';
import { foldStacks } from '../../harness/probes/foldedStacks';
import { kernelSymbol, parseKallsyms } from '../../harness/probes/kallsyms';
import { log2Quantile } from '../../harness/probes/log2Histogram';
import { parseCpuList } from '../../harness/probes/onlineCpus';
import { sumPerCpuU64 } from '../../harness/probes/perCpuValues';
import { emptyRecord, perRequest, toProbeFigures } from '../../harness/probes/probeRecord';
import { formatProbeReport } from '../../harness/probes/probeReport';
import { resolveTarget, resolveTargets } from '../../harness/probes/probeTargets';
import { schedProbe } from '../../harness/probes/schedProbe';
import { maxSyscallNr, syscallName, syscallsProbe } from '../../harness/probes/syscallsProbe';
import { encodeRegistry, registryBytes } from '../../harness/probes/registry';
import { classifyFolded } from '../../harness/attribution/stackClassifier';

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

describe('probe decoding (pure)', () => {
  it('sums per-CPU u64 structs field by field', () => {
    assert.deepEqual(sumPerCpuU64(u64s([1, 2, 10, 20]), 2, 2), [11, 22]);
    assert.throws(() => sumPerCpuU64(u64s([1, 2]), 2, 2), RangeError);
  });

  it('takes quantiles of log2 histograms inside the right slot', () => {
    assert.equal(log2Quantile([0, 0, 0], 0.5), null);
    // 100 values in slot 3 = [8, 16): p50 is halfway through it
    const h = [0, 0, 0, 100];
    assert.equal(log2Quantile(h, 0.5), 12);
    assert.equal(log2Quantile(h, 1), 16);
    const mixed = [98, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    assert.ok((log2Quantile(mixed, 0.5) as number) < 2);
    assert.ok((log2Quantile(mixed, 0.99) as number) >= 1024);
  });

  it('decodes the slot-indexed copy, connections, sched and syscalls maps by cgroup id', () => {
    const cpus = 2;
    const slots = [7n, 9n];
    const copy = copyProbe.decode(() => [
      [key32(0), Buffer.concat([u64s([100, 1, 50, 2, 5, 6, 0, 0, 40, 3]), u64s([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])])],
      [key32(5), Buffer.concat([u64s(new Array<number>(10).fill(9)), u64s(new Array<number>(10).fill(9))])],
    ], cpus, slots);
    assert.deepEqual([...copy.keys()], ['7'], 'unused slots are ignored');
    assert.deepEqual(copy.get('7'), { bytesSent: 101, sendCalls: 2, bytesReceived: 50, receiveCalls: 2, bytesSentUnix: 5, bytesReceivedUnix: 6, bytesCopied: 40, copyCalls: 3 });
    const hist = new Array<number>(32).fill(0);
    hist[5] = 4;
    const conn = connectionsProbe.decode(() => [[key32(1), u64s([4, 1, 4, 3, 0, 2, 1, 0, 160_000, ...hist])]], 1, slots).get('9');
    assert.equal(conn?.connectionsOpened, 4);
    assert.equal(conn?.connectionsAccepted, 1);
    assert.equal(conn?.handshakeUsMean, 40);
    assert.equal(conn?.handshakeUsP50, 48);
    const sched = schedProbe.decode(() => [[key32(0), u64s([5, 2, 3000, 9000, 500, 1, 6, ...new Array<number>(64).fill(0)])]], 1, slots).get('7');
    assert.equal(sched?.contextSwitchesVoluntary, 5);
    assert.equal(sched?.onCpuUs, 3);
    assert.equal(sched?.offCpuUs, 9);
    const sys = syscallsProbe.decode(() => [
      [key32(maxSyscallNr + 232), u64s([10, 5000])],
      [key32(maxSyscallNr + 0), u64s([30, 1000])],
      [key32(maxSyscallNr + 1), u64s([0, 0])],
    ], 1, slots).get('9');
    assert.equal(sys?.syscalls?.total, 40);
    assert.deepEqual(Object.keys(sys?.syscalls?.byName ?? {}), ['read', 'epoll_wait']);
  });

  it('merges the per-CPU device tables of the packets probe by (netns, device)', () => {
    // struct slot_devices (bpf/packets.h): 15 entries of {u32 netns, u32 ifindex, u64 packets[2], u64 bytes[2]}, overflow
    const table = (entries: Array<[number, number, number[], number[]]>, overflow: number[] = [0, 0, 0, 0]): Buffer => {
      const b = Buffer.alloc(15 * 40 + 32);
      entries.forEach(([netns, ifindex, packets, bytes], i) => {
        b.writeUInt32LE(netns, i * 40);
        b.writeUInt32LE(ifindex, i * 40 + 4);
        [...packets, ...bytes].forEach((v, f) => b.writeBigUInt64LE(BigInt(v), i * 40 + 8 + f * 8));
      });
      overflow.forEach((v, f) => b.writeBigUInt64LE(BigInt(v), 15 * 40 + f * 8));
      return b;
    };
    const names = (netns: number, ifindex: number, name: string): [Buffer, Buffer] => {
      const k = Buffer.alloc(8);
      k.writeUInt32LE(netns);
      k.writeUInt32LE(ifindex, 4);
      const v = Buffer.alloc(16);
      v.write(name, 'latin1');
      return [k, v];
    };
    const dump = (map: string): Array<[Buffer, Buffer]> => map === 'device_names'
      ? [names(100, 1, 'lo'), names(100, 2, 'veth0')]
      // CPU 0 saw lo first, CPU 1 saw veth0 first; slot 1 is not registered
      : [[key32(0), Buffer.concat([table([[100, 1, [3, 0], [300, 0]], [100, 2, [1, 2], [60, 120]]]), table([[100, 2, [4, 0], [400, 0]], [100, 1, [1, 1], [100, 50]]], [0, 2, 0, 80])])],
        [key32(1), Buffer.concat([table([[5, 1, [9, 9], [9, 9]]]), table([])])]];
    const rows = packetsProbe.decode(dump, 2, [7n]).get('7')?.packets;
    assert.deepEqual(rows, [
      { device: 'other', netns: 0, direction: 'rx', packets: 2, bytes: 80 },
      { device: 'lo', netns: 100, direction: 'rx', packets: 1, bytes: 50 },
      { device: 'lo', netns: 100, direction: 'tx', packets: 4, bytes: 400 },
      { device: 'veth0', netns: 100, direction: 'rx', packets: 2, bytes: 120 },
      { device: 'veth0', netns: 100, direction: 'tx', packets: 5, bytes: 460 },
    ]);
    assert.throws(() => packetsProbe.decode((m) => (m === 'packet_stats' ? [[key32(0), Buffer.alloc(8)]] : []), 2, [7n]), RangeError);
  });

  it('writes the registry over the start of .bss', () => {
    const bss = Buffer.alloc(registryBytes + 8, 0xff);
    const r = encodeRegistry([{ cgroupId: 42n, netns: null }, { cgroupId: 43n, netns: 4026532000 }], bss);
    assert.equal(r.readBigUInt64LE(0), 42n);
    assert.equal(r.readBigUInt64LE(8), 43n);
    assert.equal(r.readUInt32LE(32 * 8 + 4), 4026532000);
    assert.equal(r.readUInt32LE(32 * 12), 2);
    assert.equal(r.readUInt32LE(32 * 12 + 4), 1);
    assert.equal(r[registryBytes], 0xff, 'the rest of .bss is kept');
    assert.throws(() => encodeRegistry(new Array(33).fill({ cgroupId: 1n, netns: null }), bss), /at most 32 cgroups/);
  });

  it('names x86_64 syscalls and falls back to the number', () => {
    assert.equal(syscallName(0, 'x64'), 'read');
    assert.equal(syscallName(232, 'x64'), 'epoll_wait');
    assert.equal(syscallName(9999, 'x64'), 'syscall_9999');
    assert.equal(syscallName(0, 'arm64'), 'syscall_0');
  });

  it('symbolises kernel addresses and folds stacks root first with _[k] frames', () => {
    const ks = parseKallsyms('ffffffff81000000 T _stext\nffffffff81000100 t tcp_sendmsg\nffffffff81000200 T rep_movs_alternative\n0000000000000000 D data_sym\n');
    assert.equal(kernelSymbol(ks, 0xffffffff81000150n), 'tcp_sendmsg');
    assert.equal(kernelSymbol(ks, 0xfffffffe00000000n), null);
    assert.equal(parseKallsyms('0000000000000000 T hidden\n').names.length, 0);
    const folded = foldStacks(
      [
        { cgroupId: '5', pid: 1, comm: 'haproxy', kernelIps: [0xffffffff81000210n, 0xffffffff81000110n], userIps: [0x10n], count: 3 },
        { cgroupId: '5', pid: 1, comm: 'haproxy', kernelIps: [0xffffffff81000210n, 0xffffffff81000110n], userIps: [0x10n], count: 2 },
        { cgroupId: '6', pid: 2, comm: 'my app', kernelIps: [], userIps: [], count: 1 },
      ],
      (ip) => kernelSymbol(ks, ip),
      () => () => '[libc.so.6]',
    );
    assert.equal(folded.get('5'), 'haproxy;[libc.so.6];tcp_sendmsg_[k];rep_movs_alternative_[k] 5');
    assert.equal(folded.get('6'), 'my_app 1');
    assert.equal(classifyFolded(folded.get('5') as string).copying, 5);
  });

  it('parses CPU lists', () => {
    assert.deepEqual(parseCpuList('0-2,5\n'), [0, 1, 2, 5]);
  });

  it('derives per-request figures and the ProbeFigures subset', () => {
    const r = { ...emptyRecord('1'), bytesSent: 1000, contextSwitchesVoluntary: 30, contextSwitchesInvoluntary: 10, onCpuUs: 500 };
    assert.equal(perRequest(r, 0), null);
    assert.equal(perRequest(r, 10)?.bytesSentPerRequest, 100);
    assert.equal(perRequest(r, 10)?.contextSwitchesPerRequest, 4);
    assert.deepEqual(Object.keys(toProbeFigures(r)).sort(), ['bytesReceived', 'bytesSent', 'connectionsAccepted', 'connectionsOpened', 'contextSwitchesInvoluntary', 'contextSwitchesVoluntary', 'onCpuUs', 'syscalls']);
  });

  it('formats the probe report with units and unavailable probes', () => {
    const text = formatProbeReport({
      command: ['curl', 'x'], exitCode: 0, durationUs: 1500,
      record: { ...emptyRecord('1'), bytesSent: 2_000_000, handshakeUsP50: 40, handshakeUsP99: 2500 },
      probes: [{ name: 'extras', available: false, hook: null, reason: 'unavailable: fentry refused' }],
    });
    assert.match(text, /^meshbench probe: curl x \(exit 0, 1\.50 ms\)/);
    assert.match(text, /2,000,000 B \(1\.9 MiB\)/);
    assert.match(text, /handshake p50 \/ p99\s+40 µs \/ 2\.50 ms/);
    assert.match(text, /extras: unavailable: fentry refused/);
  });

  it('rejects bad targets with BadInputError', () => {
    assert.throws(() => resolveTarget({ name: 'a' }), BadInputError);
    assert.throws(() => resolveTarget({ name: 'a', cgroupId: 'x1' }), /must be a number/);
    assert.throws(() => resolveTarget({ name: 'a', v2Path: '/nonexistent/cgroup' }), /unknown cgroup path \/nonexistent\/cgroup/);
    assert.throws(() => resolveTargets([{ name: 'a', cgroupId: 1n }, { name: 'a', cgroupId: 2n }]), /given twice/);
    assert.equal(resolveTarget({ name: 'a', cgroupId: '42' }).cgroupId, 42n);
  });
});
