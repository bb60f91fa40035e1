import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { foldPerfScript } from '../../harness/attribution/perfStackSampler';
import { classifyFolded } from '../../harness/attribution/stackClassifier';
import type { DoctorCheck } from '../../harness/doctor/doctorCheck';
import { formatDoctorTable } from '../../harness/doctor/doctorTable';
import { doctorExitCode, localDoctorChecks, type MachineView } from '../../harness/doctor/localChecks';
import { ebpfObjectsSince, mergeEbpfObjects, ownBpfObjects } from '../../harness/resources/bpfCost';
import { formatSummaryText } from '../../harness/results/summaryText';
import { formatUs } from '../../harness/results/formatUnits';
import { progressLine } from '../../harness/commands/loadCommand';
import { progressP99 } from '../../harness/commands/runCommand';
import { progressOf } from '../../harness/runner/loadProcess';
import type { SummaryGroup, SummaryRecord } from '../../harness/results/summaryTypes';

const perfScript = [
  'node 100/101 ',
  '\tffffffff8201a04a copy_user_generic_string ([kernel.kallsyms])',
  '\tffffffff8200fed3 tcp_recvmsg_locked ([kernel.kallsyms])',
  '\tffffffff821ed511 do_syscall_64 ([kernel.kallsyms])',
  '\t           f82ec read (/usr/lib/x86_64-linux-gnu/libc.so.6)',
  '\t    5569023f7438 [unknown] (/usr/bin/node)',
  '',
  'haproxy 200/200 ',
  '\t    55d0 [unknown] (/usr/sbin/haproxy)',
  '',
  'haproxy 200/202 ',
  '\t    55d0 [unknown] (/usr/sbin/haproxy)',
  '',
  'kworker/0:1 7/7 ',
  '\tffffffff8201a04a worker_thread ([kernel.kallsyms])',
  '',
].join('\n');

describe('perf stacks per component', () => {
  it('folds perf script output per component by process id, root first, kernel frames marked', () => {
    const folded = foldPerfScript(perfScript, new Map([[100, 'client'], [200, 'client-proxy']]));
    assert.deepEqual(Object.keys(folded).sort(), ['client', 'client-proxy']);
    assert.equal(folded.client, 'node;[node];read;do_syscall_64_[k];tcp_recvmsg_locked_[k];copy_user_generic_string_[k] 1');
    assert.equal(folded['client-proxy'], 'haproxy;[haproxy] 2', 'threads of one process add up');
    assert.equal(classifyFolded(folded.client ?? '').copying, 1);
    assert.equal(classifyFolded(folded['client-proxy'] ?? '').userspace, 2);
  });
});

describe('eBPF data plane objects', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-fdinfo-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds programs (also through links) and maps in fdinfo, and what appeared since a snapshot', () => {
    fs.writeFileSync(path.join(dir, '3'), 'pos:\t0\nflags:\t02\nprog_type:\t18\nprog_id:\t41\nrun_time_ns:\t0\n');
    fs.writeFileSync(path.join(dir, '4'), 'pos:\t0\nmap_type:\t18\nmap_id:\t7\nmemlock:\t4096\n');
    const before = ownBpfObjects(dir);
    assert.deepEqual(before, { progIds: [41], mapIds: [7] });
    fs.writeFileSync(path.join(dir, '5'), 'link_type:\tcgroup\nlink_id:\t3\nprog_tag:\tabc\nprog_id:\t42\n');
    fs.writeFileSync(path.join(dir, '6'), 'map_type:\t1\nmap_id:\t8\n');
    assert.deepEqual(ebpfObjectsSince(before, ownBpfObjects(dir)), { progIds: [42], mapIds: [8] });
    assert.equal(ebpfObjectsSince(before, before), null);
    assert.deepEqual(mergeEbpfObjects({ progIds: [1], mapIds: [] }, { progIds: [1, 2], mapIds: [3] }), { progIds: [1, 2], mapIds: [3] });
    assert.equal(mergeEbpfObjects(null, null), null);
  });
});

function fakeMachine(over: Partial<MachineView> & { files?: Record<string, string> } = {}): MachineView {
  const files: Record<string, string> = {
    '/sys/kernel/btf/vmlinux': '',
    '/sys/kernel/tracing/events': '',
    '/sys/kernel/tracing/events/sock/sock_send_length': '',
    '/sys/kernel/tracing/available_filter_functions': '',
    '/sys/kernel/security/lockdown': 'none [integrity] confidentiality\n',
    '/sys/bus/event_source/devices/software': '',
    '/proc/sys/kernel/perf_event_paranoid': '2\n',
    '/proc/sys/kernel/bpf_stats_enabled': '0\n',
    '/usr/lib/x86_64-linux-gnu/libbpf.so.1': '',
    ...over.files,
  };
  return {
    readFile: (p) => files[p],
    exists: (p) => p in files,
    commandLine: (cmd) => `${cmd} 1.0`,
    isRoot: true,
    kernelRelease: '6.18.0',
    mounts: 'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n',
    ...over,
  };
}

describe('doctor', () => {
  const byName = (checks: readonly DoctorCheck[], name: string): DoctorCheck => {
    const c = checks.find((x) => x.name === name);
    assert.ok(c !== undefined, name);
    return c;
  };

  it('on a locked-down machine without PMU: kprobes and fentry unavailable with the reason, the core ok, exit 0', () => {
    const checks = localDoctorChecks(fakeMachine());
    assert.equal(byName(checks, 'kprobes').ok, false);
    assert.equal(byName(checks, 'kprobes').detail, 'unavailable: kernel lockdown (integrity)');
    assert.equal(byName(checks, 'fentry/fexit').detail, 'unavailable: kernel lockdown (integrity)');
    assert.equal(byName(checks, 'perf_event (hardware counters)').ok, false);
    assert.ok(byName(checks, 'perf_event (hardware counters)').fix !== null);
    assert.equal(byName(checks, 'cgroup v2').ok, true);
    assert.equal(doctorExitCode(checks), 0);
    for (const c of checks) assert.equal(c.fix === null, c.ok, `${c.name}: a fix exactly when missing`);
    const table = formatDoctorTable(checks);
    assert.match(table, /kprobes\s+missing\s+unavailable: kernel lockdown \(integrity\)/);
    assert.match(table, /core: ok/);
  });

  it('uses the hooks tried for real when the addon could try them, naming lockdown only where it refuses', () => {
    const checks = localDoctorChecks(fakeMachine({
      kernelFeatures: [
        { name: 'tp_btf', available: true, detail: 'tp_btf/sched_wakeup' },
        { name: 'kprobe', available: false, detail: 'unavailable: kprobe/tcp_sendmsg: Operation not permitted; kernel lockdown=integrity refuses it too' },
        { name: 'fentry', available: false, detail: 'unavailable: fentry/tcp_sendmsg: Operation not permitted; kernel lockdown=integrity refuses it too' },
        { name: 'perf_hardware', available: false, detail: 'unavailable: not supported (no hardware PMU, e.g. inside a VM)' },
      ],
    }));
    assert.equal(byName(checks, 'kprobes').detail, 'unavailable: kernel lockdown (integrity); tried kprobe/tcp_sendmsg: Operation not permitted');
    assert.match(byName(checks, 'fentry/fexit').detail, /^unavailable: kernel lockdown \(integrity\); tried fentry/);
    assert.equal(byName(checks, 'tp_btf').detail, 'attached tp_btf/sched_wakeup');
    assert.equal(byName(checks, 'perf_event (hardware counters)').detail, 'unavailable: not supported (no hardware PMU, e.g. inside a VM)');
  });

  it('exits non-zero only when the core is missing', () => {
    assert.equal(doctorExitCode(localDoctorChecks(fakeMachine({ isRoot: false }))), 3);
    assert.equal(doctorExitCode(localDoctorChecks(fakeMachine({ mounts: '' }))), 3, 'no cgroup v2');
    const noTracing = fakeMachine({ exists: (p) => !p.startsWith('/sys/kernel/tracing') && !p.startsWith('/sys/kernel/btf') && p in { '/sys/bus/event_source/devices/software': 1 } });
    assert.equal(doctorExitCode(localDoctorChecks(noTracing)), 3, 'neither BTF nor tracepoints');
    const btfOnly = fakeMachine({ files: {}, exists: (p) => p === '/sys/kernel/btf/vmlinux' });
    assert.equal(doctorExitCode(localDoctorChecks(btfOnly)), 0, 'BTF alone is enough');
    assert.equal(doctorExitCode(localDoctorChecks(fakeMachine({ commandLine: () => undefined }))), 0, 'missing tools are not core');
  });
});

describe('run summary text', () => {
  const sp = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    return { values, min: s[0] ?? 0, median: s[(s.length - 1) >> 1] ?? 0, max: s[s.length - 1] ?? 0 };
  };
  const group = (dataplane: SummaryGroup['dataplane'], p50: number[], breakdown: SummaryGroup['breakdown']): SummaryGroup => ({
    dataplane, placement: 'cross-node', loadPoint: { qps: 1000, connections: 4, payloadBytes: 0, keepAlive: true, protocol: 'http' }, repetitions: p50.length,
    latencyP50Us: sp(p50), latencyP90Us: sp(p50), latencyP99Us: sp(p50), latencyP999Us: sp(p50), actualQps: sp(p50.map(() => 1000)),
    cpuUsPerRequest: sp([100, 110, 120]), cpuUsPerRequestByComponent: { client: 50, 'ebpf-dataplane': 0.1 }, memoryRssBytesPeakByComponent: { client: 1 << 20 },
    errors: sp([0]), connectionsOnPath: 3, latencyAddedP50Us: breakdown === null ? null : sp([10, 20, 30]), latencyAddedP50Pct: breakdown === null ? null : sp([10, 20, 30]),
    latencyAddedP99Us: null, latencyAddedP99Pct: null, ebpfRunTimeUsPerRequest: null, ebpfMapMemoryBytes: null,
    breakdown, extraCpuUsPerRequest: breakdown === null ? null : sp([90, 100, 110]), breakdownExplainedShare: breakdown === null ? null : sp([0.85, 0.9, 0.95]),
  });

  it('shows min–max over repetitions for headline figures and the unexplained share of the breakdown', () => {
    const byCategoryUs = { copying: 10, connections: 0, scheduling: 20, syscalls: 10, 'network-stack': 30, 'proxy-userspace': 20, application: 0, 'kernel-unclassified': 0, unexplained: 10, instrumentation: 0 };
    const s: SummaryRecord = {
      schemaVersion: 1, kind: 'meshbench-summary', runId: 'r', status: 'complete',
      dataplanesSkipped: [{ dataplane: 'kernel', reason: 'not in this build' }],
      groups: [
        group('baseline', [100, 110, 120], null),
        group('sidecar', [200, 210, 220], {
          dataplane: 'sidecar', versus: 'baseline', extraCpuUsPerRequest: 100, byCategoryUs, byComponentUs: {}, explainedShare: 0.9, method: 'm',
          extraBytesCopiedPerRequest: null, extraConnectionsPerRequest: null, extraContextSwitchesPerRequest: null,
        }),
      ],
    };
    const text = formatSummaryText(s);
    assert.match(text, /sidecar\s+cross-node\s+1000 qps c4\s+1000 \[1000–1000\]\s+210 µs \[200 µs–220 µs\]/);
    assert.match(text, /sidecar: unexplained 10% of 100\.0 µs extra CPU\/request/);
    assert.match(text, /90% \[85%–95%\]/);
    assert.match(text, /skipped kernel: not in this build/);
    assert.doesNotMatch(text, /ebpf-dataplane 0\.1/, 'the eBPF row is not listed as a CPU consumer');
  });

  it('signs the added-latency columns with a minus sign (U+2212), every bound too, as the other signed figures', () => {
    const faster = { ...group('sidecar', [90, 95, 100], null), latencyAddedP50Us: sp([-30, -20, -10]), latencyAddedP50Pct: sp([-3, -2, -1]), latencyAddedP99Us: sp([-5, 5, 15]), latencyAddedP99Pct: sp([-1, 1, 2]) };
    const text = formatSummaryText({ schemaVersion: 1, kind: 'meshbench-summary', runId: 'r', status: 'complete', dataplanesSkipped: [], groups: [group('baseline', [100, 110, 120], null), faster] });
    assert.match(text, /−20 µs \[−30 µs–−10 µs\] \(−2%\)/);
    assert.match(text, /\+5\.0 µs \[−5\.0 µs–\+15 µs\] \(\+1%\)/);
    assert.doesNotMatch(text, /-\d/, 'no ASCII hyphen as a minus sign');
  });
});

describe('live progress before the first request completes', () => {
  it('shows no P99 (not 0 µs) for a progress event without one, and the P99 once there is one', () => {
    for (const e of [{ event: 'progress', qpsLastInterval: 0 }, { event: 'progress', qpsLastInterval: 0, p99Us: null }]) {
      const p = progressOf(e);
      assert.equal(p.p99Us, null);
      assert.equal(progressP99(p.p99Us), '-');
    }
    assert.equal(progressP99(progressOf({ qpsLastInterval: 10, p99Us: 1500 }).p99Us), formatUs(1500));
    const line = progressLine({ elapsedUs: 2e6, warmingUp: true, completed: 0, errors: 0, qpsLastInterval: 0, p99Us: null });
    assert.match(line, /p99 none /);
    assert.doesNotMatch(line, /0\.00 ms/);
  });
});
