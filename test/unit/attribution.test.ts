import assert from 'node:assert/strict';
import { classifyFolded, classifyStack } from '../../harness/attribution/stackClassifier';
import { overheadBreakdown, splitStepCpu, type StepCosts } from '../../harness/attribution/overheadBreakdown';

const k = (f: string): string => `${f}_[k]`;

describe('stack classifier', () => {
  it('names copies, scheduling, connections, the network stack and syscalls', () => {
    assert.equal(classifyStack(['haproxy', k('entry_SYSCALL_64'), k('__x64_sys_recvfrom'), k('tcp_recvmsg'), k('skb_copy_datagram_iter'), k('rep_movs_alternative')]), 'copying');
    assert.equal(classifyStack(['node', k('do_syscall_64'), k('do_epoll_wait'), k('schedule_hrtimeout_range'), k('__schedule'), k('finish_task_switch.isra.0')]), 'scheduling');
    assert.equal(classifyStack(['node', k('__sys_connect'), k('tcp_v4_connect'), k('ip_route_output_key_hash'), k('fib_table_lookup')]), 'connections');
    assert.equal(classifyStack(['haproxy', k('__x64_sys_sendto'), k('tcp_sendmsg_locked'), k('__tcp_transmit_skb'), k('ip_finish_output2'), k('nf_hook_slow'), k('ipt_do_table')]), 'network-stack');
    assert.equal(classifyStack(['node', k('entry_SYSCALL_64'), k('do_syscall_64'), k('__fget_light')]), 'syscalls');
    assert.equal(classifyStack(['haproxy', 'h1_parse_msg_hdrs']), 'userspace');
    assert.equal(classifyStack(['haproxy', k('some_unknown_thing')]), 'unexplained');
  });

  it('counts samples per category from folded text', () => {
    const folded = `a;${k('rep_movs_alternative')} 3\nb;c 2\nx;${k('mystery')} 1\nmalformed\n`;
    const c = classifyFolded(folded);
    assert.equal(c.copying, 3);
    assert.equal(c.userspace, 2);
    assert.equal(c.unexplained, 1);
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
    assert.equal(b.byCategoryUs.unexplained, 10);
    assert.ok(Math.abs(b.explainedShare - 0.8) < 1e-9);
    assert.deepEqual(b.byComponentUs.client, {});
    assert.equal(b.extraBytesCopiedPerRequest, 4);
    assert.equal(b.extraConnectionsPerRequest, 0.004);
    assert.equal(b.extraContextSwitchesPerRequest, 0.3);
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
