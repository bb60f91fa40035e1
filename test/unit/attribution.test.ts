import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { classificationRules, classifyFolded, classifyFoldedStacks, classifyStack, classifyStackWithRule, socketReleaseShare } from '../../harness/attribution/stackClassifier';
import { overheadBreakdown, splitStepCpu, type StepCosts } from '../../harness/attribution/overheadBreakdown';
import { foldStacks } from '../../harness/probes/foldedStacks';
import { captureLost } from '../../harness/probes/stackSampler';

const k = (f: string): string => `${f}_[k]`;

interface StackCase { rule: string; expect: string; stack: string; step?: string; component?: string; note?: string }
const readFixture = (name: string): { cases: StackCase[]; derived?: StackCase[] } =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stacks', name), 'utf8')) as { cases: StackCase[]; derived?: StackCase[] };
const quick = readFixture('quick-run.json');
/** Stacks of the calibration run (issue 14) for the rules its controls called for. */
const calibrationRun = readFixture('calibration-run.json');
/** Stacks of a calibration run with the native controls (connects, switches) for the close(2) and user-frame rules. */
const nativeRun = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stacks', 'calibration-native-run.json'), 'utf8')) as { cases: StackCase[]; shared: { socketRelease: string; fileClose: string } };
const fixture = { cases: [...quick.cases, ...calibrationRun.cases, ...nativeRun.cases], derived: quick.derived ?? [] };

describe('stack classification rules (real stacks from a quick run and a calibration run)', () => {
  for (const c of [...fixture.cases, ...fixture.derived]) {
    it(`${c.rule}: ${c.component ?? c.note ?? ''} → ${c.expect}`, () => {
      const r = classifyStackWithRule(c.stack.split(';'));
      assert.equal(r.rule.name, c.rule);
      assert.equal(r.category, c.expect);
    });
  }

  it('every rule of the table has a stack in the fixture, and the fixture names no rule that does not exist', () => {
    const names = new Set([...classificationRules.map((r) => r.name), 'kernel-unclassified', 'userspace']);
    const covered = new Set([...fixture.cases, ...fixture.derived].map((c) => c.rule));
    assert.deepEqual([...names].filter((n) => !covered.has(n)), []);
    assert.deepEqual([...covered].filter((n) => !names.has(n)), []);
  });

  // Each of these was classified otherwise by the rules that landed in 0.1 (issue 13 found #4, issue 14 item 3).
  const landedAs: Array<[string, string, string]> = [
    ['probe-frames', 'instrumentation', 'network-stack'],
    ['softirq-timer', 'kernel-unclassified', 'scheduling'],
    ['softirq-rcu', 'kernel-unclassified', 'network-stack'],
    ['softirq-other', 'kernel-unclassified', 'network-stack'],
    ['syscall-entry-exit-only', 'kernel-unclassified', 'syscalls'],
    ['empty-stack', 'unexplained', 'userspace'],
  ];
  for (const [rule, now, before] of landedAs) {
    it(`${rule}: ${now}, no longer ${before}`, () => {
      const stacks = fixture.cases.filter((c) => c.rule === rule).map((c) => classifyStack(c.stack.split(';')));
      assert.ok(stacks.length > 0);
      assert.ok(stacks.every((cat) => cat === now), stacks.join(','));
    });
  }

  // Each of these was classified otherwise before the calibration controls (issue 14) showed where their known work went.
  const calibrationLanded: Array<[string, RegExp, string, string]> = [
    ['futex-handoff', /__x64_sys_futex/, 'scheduling', 'syscalls'],
    ['unix-socket-transfer', /unix_stream_/, 'copying', 'network-stack'],
    ['softirq-net-connection-syscall', /net_rx_action/, 'connections', 'network-stack'],
    ['scheduler', /__rseq_handle_notify_resume_\[k\]$/, 'scheduling', 'kernel-unclassified'],
    ['connection-setup-teardown', /inet_shutdown_\[k\]$|sock_close_\[k\]$/, 'connections', 'syscalls or network-stack'],
    ['userspace', /^node;\[user_stack_lost\]$/, 'userspace', 'unexplained'],
  ];
  for (const [rule, shape, now, before] of calibrationLanded) {
    it(`${rule} (${shape.source}): ${now}, no longer ${before}`, () => {
      const stacks = calibrationRun.cases.filter((c) => c.rule === rule && shape.test(c.stack));
      assert.ok(stacks.length > 0, 'a real stack of this shape is in the fixture');
      for (const c of stacks) assert.equal(classifyStack(c.stack.split(';')), now, c.stack);
    });
  }

  it('file-close: close(2)\'s generic teardown is shared by the releases the component shows (real stacks of one step)', () => {
    const { socketRelease, fileClose } = nativeRun.shared;
    assert.equal(classifyStackWithRule(fileClose.split(';')).rule.name, 'file-close');
    assert.equal(classifyStack(socketRelease.split(';')), 'connections');
    // Only socket releases seen: all of it is connections.
    const sockets = `${socketRelease} 3\n${fileClose} 2\n`;
    assert.equal(socketReleaseShare(sockets), 1);
    const c = classifyFolded(sockets);
    assert.equal(c.connections, 5);
    assert.equal(c.syscalls, 0);
    // No release seen: syscalls, as before the rule.
    assert.equal(socketReleaseShare(`${fileClose} 2`), null);
    assert.equal(classifyFolded(`${fileClose} 2`).syscalls, 2);
    // A pipe's release beside the socket's: the generic part shared 3 : 1, the pipe's own release syscalls
    // (a pipe_release frame put where sock_close was).
    const pipe = socketRelease.replace(/sock_close_\[k\].*$/, 'pipe_release_[k]');
    const mixed = `${socketRelease} 3\n${pipe} 1\n${fileClose} 4\n`;
    assert.equal(socketReleaseShare(mixed), 0.75);
    const m = classifyFolded(mixed);
    assert.equal(m.connections, 3 + 3);
    assert.equal(m.syscalls, 1 + 1);
    assert.deepEqual(classifyFoldedStacks(mixed).filter((x) => x.rule === 'file-close').map((x) => [x.category, x.count]), [['syscalls', 1], ['connections', 3], ['syscalls', 1]]);
    // The generic hooks __fput runs for every file are not a file's release.
    const hook = socketRelease.replace(/sock_close_\[k\].*$/, 'file_f_owner_release_[k]');
    assert.equal(socketReleaseShare(`${socketRelease} 1\n${hook} 5`), 1);
  });

  it('the innermost user frame decides entry/exit-only and user-mode samples only when it names the call', () => {
    // entry/exit alone under a futex wrapper: scheduling; the same frames under libc's generic syscall(2): kernel, unclassified
    const named = nativeRun.cases.find((c) => c.rule === 'futex-named-by-user-frame' && c.stack.includes('_[k]')) as StackCase;
    assert.equal(classifyStack(named.stack.split(';')), 'scheduling');
    assert.equal(classifyStack(named.stack.replace('mb_futexWake', 'syscall').split(';')), 'kernel-unclassified');
    // a wrapper frame does not decide a stack whose kernel frames name work
    assert.equal(classifyStack(named.stack.replace('do_syscall_64_[k]', 'do_syscall_64_[k];ksys_write_[k];vfs_write_[k]').split(';')), 'syscalls');
    // a user-mode sample in a function that is not a wrapper stays user space
    assert.equal(classifyStack(['node', '[libstdc++.so.6.0.30]', 'helperLoop']), 'userspace');
    assert.equal(classifyStack(['node', '[libc.so.6]']), 'userspace');
  });

  it('wakeup-irq-restore: only a wake-up\'s irq restore under a receive softirq is scheduling; the rest of that softirq stays the network stack', () => {
    const c = nativeRun.cases.find((x) => x.rule === 'wakeup-irq-restore') as StackCase;
    assert.match(c.stack, /net_rx_action_\[k\]/);
    assert.equal(classifyStack(c.stack.split(';')), 'scheduling');
    // the same softirq sampled inside the wake function, or at an irq restore under TCP itself: network-stack
    assert.equal(classifyStack(c.stack.replace(/;_raw_spin_unlock_irqrestore_\[k\]$/, '').split(';')), 'network-stack');
    assert.equal(classifyStack(c.stack.replace(/sock_def_readable_\[k\];_raw_spin_unlock_irqrestore_\[k\]$/, 'tcp_v4_rcv_[k];_raw_spin_unlock_irqrestore_[k]').split(';')), 'network-stack');
  });

  it('a receive softirq is connections only on top of a connection call: the same softirq under a write stays the network stack', () => {
    const softirq = [k('__local_bh_enable_ip'), k('do_softirq.part.0'), k('handle_softirqs'), k('net_rx_action'), k('__napi_poll'), k('process_backlog'), k('ip_rcv')];
    assert.equal(classifyStack(['node', k('do_syscall_64'), k('__x64_sys_connect'), k('__sys_connect'), k('tcp_v4_connect'), ...softirq]), 'connections');
    assert.equal(classifyStack(['node', k('do_syscall_64'), k('ksys_write'), k('vfs_write'), k('sock_write_iter'), k('tcp_sendmsg'), ...softirq]), 'network-stack');
  });

  it('probe frames are instrumentation; the kernel data plane\'s own programs stay the network stack', () => {
    assert.equal(classifyStack(['node', k('tcp_sendmsg'), k('bpf_prog_1a2b3c4d5e6f7a8b_mb_sk_msg')]), 'network-stack');
    assert.equal(classifyStack(['node', k('tcp_sendmsg'), k('bpf_trace_run2'), k('bpf_prog_1a2b3c4d5e6f7a8b_mb_switch')]), 'instrumentation');
  });
});

describe('stack capture failures', () => {
  it('a stack id error other than -EFAULT, or an id that resolves to nothing, is a lost capture', () => {
    assert.equal(captureLost(-14, []), false, '-EFAULT: no kernel frames (user mode)');
    assert.equal(captureLost(-17, []), true, '-EEXIST: hash collision');
    assert.equal(captureLost(5, []), true, 'the id no longer resolves');
    assert.equal(captureLost(5, [1n]), false);
  });

  it('folds a lost capture into a marker frame the classifier calls unexplained', () => {
    const folded = foldStacks(
      [{ cgroupId: '9', pid: 1, comm: 'haproxy', kernelIps: [], userIps: [0x10n], count: 3, kernelStackLost: true }],
      () => null, () => () => 'h1_parse',
    );
    assert.equal(folded.get('9'), 'haproxy;h1_parse;[kernel_stack_lost]_[k] 3');
    assert.equal(classifyFolded(folded.get('9') ?? '').unexplained, 3);
  });
});

describe('stack classifier', () => {
  it('names copies, scheduling, connections, the network stack and syscalls', () => {
    assert.equal(classifyStack(['haproxy', k('entry_SYSCALL_64'), k('__x64_sys_recvfrom'), k('tcp_recvmsg'), k('skb_copy_datagram_iter'), k('rep_movs_alternative')]), 'copying');
    assert.equal(classifyStack(['node', k('do_syscall_64'), k('do_epoll_wait'), k('schedule_hrtimeout_range'), k('__schedule'), k('finish_task_switch.isra.0')]), 'scheduling');
    assert.equal(classifyStack(['node', k('__sys_connect'), k('tcp_v4_connect'), k('ip_route_output_key_hash'), k('fib_table_lookup')]), 'connections');
    assert.equal(classifyStack(['haproxy', k('__x64_sys_sendto'), k('tcp_sendmsg_locked'), k('__tcp_transmit_skb'), k('ip_finish_output2'), k('nf_hook_slow'), k('ipt_do_table')]), 'network-stack');
    assert.equal(classifyStack(['node', k('entry_SYSCALL_64'), k('do_syscall_64'), k('__fget_light')]), 'syscalls');
    assert.equal(classifyStack(['haproxy', 'h1_parse_msg_hdrs']), 'userspace');
    assert.equal(classifyStack(['haproxy', k('some_unknown_thing')]), 'kernel-unclassified');
  });

  it('counts samples per category from folded text', () => {
    const folded = `a;${k('rep_movs_alternative')} 3\nb;c 2\nx;${k('mystery')} 1\nmalformed\nlonely 4\n`;
    const c = classifyFolded(folded);
    assert.equal(c.copying, 3);
    assert.equal(c.userspace, 2);
    assert.equal(c['kernel-unclassified'], 1);
    assert.equal(c.unexplained, 4);
  });
});

describe('overhead breakdown', () => {
  const baseline: StepCosts = {
    client: { role: 'client', cpuUsPerRequest: 40, foldedStacks: `node;x 1\nnode;${k('tcp_sendmsg')} 1\n`, figures: { bytesSent: 1000, bytesReceived: 1000, connectionsOpened: 4, connectionsAccepted: 0, contextSwitchesVoluntary: 100, contextSwitchesInvoluntary: 0, syscalls: 10, onCpuUs: 1 } },
    server: { role: 'server', cpuUsPerRequest: 30, foldedStacks: `node;y 1\n`, figures: { bytesSent: 1000, bytesReceived: 1000, connectionsOpened: 0, connectionsAccepted: 4, contextSwitchesVoluntary: 100, contextSwitchesInvoluntary: 0, syscalls: 10, onCpuUs: 1 } },
  };
  const sidecar: StepCosts = {
    ...baseline,
    'client-proxy': { role: 'proxy', cpuUsPerRequest: 50, foldedStacks: `haproxy;parse 2\nhaproxy;${k('copy_user_enhanced_fast_string')} 1\nhaproxy;${k('__schedule')} 1\nhaproxy;${k('weird')} 1\n`, figures: { bytesSent: 2000, bytesReceived: 2000, connectionsOpened: 4, connectionsAccepted: 4, contextSwitchesVoluntary: 300, contextSwitchesInvoluntary: 0, syscalls: 40, onCpuUs: 1 } },
  };

  it('splits a step exactly: categories add up to the measured CPU', () => {
    const s = splitStepCpu(sidecar);
    const sum = Object.values(s.total).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 120) < 1e-9);
    assert.equal(s.byComponent.client?.application, 20);
    assert.equal(s.byComponent.client?.['network-stack'], 20);
  });

  it('closes: data plane minus baseline by category equals the measured extra CPU', () => {
    const b = overheadBreakdown('sidecar', sidecar, 1000, baseline, 1000);
    assert.equal(b.extraCpuUsPerRequest, 50);
    assert.equal(b.byCategoryUs['proxy-userspace'], 20);
    assert.equal(b.byCategoryUs.copying, 10);
    assert.equal(b.byCategoryUs.scheduling, 10);
    assert.equal(b.byCategoryUs['kernel-unclassified'], 10);
    assert.equal(b.byCategoryUs.unexplained, 0);
    assert.ok(Math.abs(b.explainedShare - 0.8) < 1e-9);
    assert.deepEqual(b.byComponentUs.client, {});
    assert.equal(b.extraBytesCopiedPerRequest, 4);
    assert.equal(b.extraConnectionsPerRequest, 0.004);
    assert.equal(b.extraContextSwitchesPerRequest, 0.3);
  });

  it('leaves the probes\' own frames out of the mesh\'s extra CPU (issue 13 found #4)', () => {
    const probed: StepCosts = {
      ...sidecar,
      'client-proxy': { ...(sidecar['client-proxy'] as StepCosts[string]), foldedStacks: `haproxy;parse 2\nhaproxy;${k('tcp_sendmsg')};${k('bpf_trace_run3')};${k('bpf_prog_58dcf2dd62a0f5a4_mb_send_len')} 2\n` },
    };
    const b = overheadBreakdown('sidecar', probed, 1000, baseline, 1000);
    assert.equal(b.measuredExtraCpuUsPerRequest, 50);
    assert.equal(b.byCategoryUs.instrumentation, 25);
    assert.equal(b.extraCpuUsPerRequest, 25, 'the measured extra less the probes');
    assert.equal(b.byCategoryUs['network-stack'], 0);
  });

  it('keeps the explained share within 0–100 % when a category falls', () => {
    const fell: StepCosts = { ...sidecar, client: { ...(baseline.client as StepCosts[string]), cpuUsPerRequest: 20, foldedStacks: `node;${k('mystery')} 1\n` } };
    const b = overheadBreakdown('sidecar', fell, 1000, baseline, 1000);
    assert.ok(b.explainedShare >= 0 && b.explainedShare <= 1, String(b.explainedShare));
  });

  it('calls everything unexplained without samples, and says so', () => {
    const strip = (s: StepCosts): StepCosts => Object.fromEntries(Object.entries(s).map(([n, c]) => [n, { ...c, foldedStacks: '', figures: null }]));
    const b = overheadBreakdown('sidecar', strip(sidecar), 1000, strip(baseline), 1000);
    assert.equal(b.byCategoryUs.unexplained, 50);
    assert.equal(b.explainedShare, 0);
    assert.match(b.method, /no stack samples/);
    assert.equal(b.extraBytesCopiedPerRequest, null);
  });
});
