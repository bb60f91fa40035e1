import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CgroupTree, type Cgroup } from '../../harness/cgroupTree';
import { enterCgroupArgv, removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import type { ComponentProbeRecord, PacketRow } from '../../harness/probes/probeRecord';
import { ProbeSet } from '../../harness/probes/probeSet';
import { resolveTargets } from '../../harness/probes/probeTargets';
import * as bpf from '../../bpf/bpfBindings';
import { settledBpfLeftovers } from './bpfLeftovers';
import { isRoot } from './netnsLeftovers';

/*
 * The lean hook set against the full one it replaces, both attached over the same known work in a private
 * network namespace (a client and a server, each in a cgroup of its own):
 * - packets from the namespace's device counters: received packets and bytes exactly what netif_receive_skb
 *   saw; sent packets at least what net_dev_start_xmit attributed to the two sockets, at most 3 more per
 *   connection (SYN-ACKs leave from request socks, which carry no cgroup), and bytes 14 fewer per packet (lo
 *   counts after eth_type_trans pulls the Ethernet header that net_dev_start_xmit still sees);
 * - RSTs sent (Tcp OutRsts) exactly the tcp_send_reset count, retransmits exactly the tcp_retransmit_skb count;
 * - context switches from the threads' own counters equal sched_switch's, within 3 for the few the idle
 *   runtime threads may make while the two sets attach one after the other; on-CPU time within 10 % + 2 ms;
 * - bytes copied derived from receive lengths exactly the skb copy count;
 * - syscalls in time slices: the raw count a lower bound, the scaled estimate within 20 % of the exact count
 *   over a window inside a steady syscall loop (what a measured window under steady load is; a window that
 *   starts idle and ends idle is not steady, and its estimate depends on where the slices fall).
 */
const workload = path.join(__dirname, 'fixtures', 'probeWorkload.js');
const run = `probe-lean-${process.pid}`;
const netns = `mb-probelean-${process.pid}`;
const port = 18471;

/** Started inside its cgroup, so even its first socket (a listener, whose cgroup accepted sockets inherit) is the component's. */
function spawnIn(cg: Cgroup, args: string[]): ChildProcess {
  const argv = enterCgroupArgv(cg, ['ip', 'netns', 'exec', netns, process.execPath, workload, ...args]);
  return spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PROBE_WORKLOAD_STAY: '1' } });
}

function waitFor(proc: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); if (out.includes(text)) resolve(); });
    proc.once('exit', (code) => reject(new Error(`workload exited ${code} before "${text}"`)));
  });
}

function lo(rows: readonly PacketRow[] | null, direction: 'tx' | 'rx'): { packets: number; bytes: number } {
  const r = (rows ?? []).filter((p) => p.device === 'lo' && p.direction === direction);
  return { packets: r.reduce((a, p) => a + p.packets, 0), bytes: r.reduce((a, p) => a + p.bytes, 0) };
}

describe('lean probes against the full hook set (root)', function () {
  this.timeout(60_000);
  const procs: ChildProcess[] = [];
  let tree: CgroupTree;

  before(function () {
    if (!isRoot()) this.skip();
    tree = new CgroupTree();
    execFileSync('ip', ['netns', 'add', netns]);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  });

  after(async () => {
    if (!isRoot()) return;
    for (const p of procs) p.kill('SIGKILL');
    tree.remove(run);
    removeEmptyMeshbenchRoots();
    try {
      execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    assert.deepEqual(bpf.openHandles(), { objects: 0, links: 0, perfFds: 0 });
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('matches every figure it replaces: exactly where the kernel counts, within the stated bounds elsewhere', async () => {
    const n = 2_000_003;
    const k = 5;
    const sleeps = 40;
    const serverCg = tree.create(`${run}/server`);
    const clientCg = tree.create(`${run}/client`);
    const server = spawnIn(serverCg, ['serve', String(port)]);
    procs.push(server);
    await waitFor(server, 'listening');
    const client = spawnIn(clientCg, ['mixed', '127.0.0.1', String(port), String(n), String(k), String(sleeps), '300']);
    procs.push(client);
    const targets = resolveTargets([{ name: 'server', v2Path: serverCg.v2Path }, { name: 'client', v2Path: clientCg.v2Path }]);
    const lean = new ProbeSet({ hooks: 'lean' });
    const full = new ProbeSet({ hooks: 'full' });
    let l: Record<string, ComponentProbeRecord>;
    let f: Record<string, ComponentProbeRecord>;
    try {
      lean.begin(targets);
      full.begin(targets);
      const plan = Object.fromEntries(lean.plan().map((p) => [p.probe, p]));
      assert.equal(plan.packets?.source, 'netns device counters');
      assert.deepEqual(plan.packets?.hooks, []);
      assert.deepEqual(plan.sched?.hooks, []);
      assert.deepEqual(plan.copy?.hooks, ['tp_btf/sock_send_length', 'tp_btf/sock_recv_length']);
      assert.deepEqual(plan.connections?.hooks, ['tp_btf/inet_sock_set_state', 'tp_btf/tcp_receive_reset']);
      assert.deepEqual(plan.syscalls?.slicedHooks, ['tp_btf/sys_exit']);
      const done = waitFor(client, 'done');
      client.stdin?.write('go\n');
      await done;
    } finally {
      f = full.end().components;
      l = lean.end().components;
      full.close();
      lean.close();
    }
    const [ls, lc, fs, fc] = [l.server, l.client, f.server, f.client] as ComponentProbeRecord[];
    assert.ok(ls !== undefined && lc !== undefined && fs !== undefined && fc !== undefined);

    // packets: the namespace's rows on its first component (server), null on the other
    assert.equal(lc.packets, null);
    assert.match(lc.unmeasured.packets ?? '', /counted on server/);
    const rx = lo(ls.packets, 'rx');
    const fullRx = lo(fs.packets, 'rx');
    assert.ok(fullRx.packets > 0);
    assert.equal(rx.packets, fullRx.packets);
    assert.equal(rx.bytes, fullRx.bytes);
    const tx = lo(ls.packets, 'tx');
    const fullTx = { packets: lo(fs.packets, 'tx').packets + lo(fc.packets, 'tx').packets, bytes: lo(fs.packets, 'tx').bytes + lo(fc.packets, 'tx').bytes };
    assert.equal(tx.packets, rx.packets, 'lo sends what it receives');
    assert.ok(tx.packets >= fullTx.packets && tx.packets <= fullTx.packets + 3 * (k + 1), `lean tx ${tx.packets}, full ${fullTx.packets}`);
    assert.ok(tx.bytes >= fullTx.bytes - 14 * fullTx.packets && tx.bytes >= n, `lean tx ${tx.bytes} B, full ${fullTx.bytes} B in ${fullTx.packets} packets`);

    // TCP MIB against the tcp tracepoints
    assert.equal(ls.resetsSent, (fs.resetsSent ?? 0) + (fc.resetsSent ?? 0));
    assert.equal(fc.resetsSent, k);
    assert.equal(ls.retransmits, (fs.retransmits ?? 0) + (fc.retransmits ?? 0));
    assert.equal(lc.resetsSent, null);
    assert.equal(ls.resetsReceived, fs.resetsReceived);
    assert.equal(ls.resetsReceived, k);
    assert.equal(lc.connectionsOpened, fc.connectionsOpened);
    assert.equal(lc.connectionsOpened, 1 + k);

    // threads' own counters against sched_switch
    for (const [name, a, b] of [['server', ls, fs], ['client', lc, fc]] as const) {
      assert.ok(Math.abs(a.contextSwitchesVoluntary - b.contextSwitchesVoluntary) <= 3, `${name} voluntary: lean ${a.contextSwitchesVoluntary}, full ${b.contextSwitchesVoluntary}`);
      assert.ok(Math.abs(a.contextSwitchesInvoluntary - b.contextSwitchesInvoluntary) <= 3, `${name} involuntary: lean ${a.contextSwitchesInvoluntary}, full ${b.contextSwitchesInvoluntary}`);
      assert.ok(Math.abs(a.onCpuUs - b.onCpuUs) <= 0.1 * b.onCpuUs + 2000, `${name} on-CPU: lean ${a.onCpuUs} µs, full ${b.onCpuUs} µs`);
      assert.equal(a.wakeups, null);
      assert.match(a.sources.contextSwitches ?? '', /voluntary_ctxt_switches/);
    }
    assert.ok(lc.contextSwitchesVoluntary >= sleeps);

    // bytes copied: receive lengths against the skb copies
    assert.equal(ls.bytesCopied, fs.bytesCopied);
    assert.equal(ls.bytesCopied, n);
    assert.equal(lc.bytesCopied, fc.bytesCopied);
    assert.equal(ls.copyCalls, null);
    assert.equal(ls.bytesReceived, fs.bytesReceived);
    assert.equal(lc.bytesSent, fc.bytesSent);

    // syscalls: the lean set sliced them (the estimate is checked on a steady window below)
    assert.ok(lc.syscalls.countedShare > 0 && lc.syscalls.countedShare < 1, `counted share ${lc.syscalls.countedShare}`);
    assert.equal(fc.syscalls.countedShare, 1);
    client.stdin?.end();
    server.stdin?.end();
  });

  it('estimates syscalls from time slices within 20 % of the exact count over a steady loop', async () => {
    const cg = tree.create(`${run}/spinner`);
    const spinner = spawnIn(cg, ['spin', '4000']);
    procs.push(spinner);
    const spinning = waitFor(spinner, 'spinning');
    spinner.stdin?.write('go\n');
    await spinning;
    const targets = resolveTargets([{ name: 'spinner', v2Path: cg.v2Path }]);
    const lean = new ProbeSet({ hooks: 'lean', probes: ['syscalls'] });
    const full = new ProbeSet({ hooks: 'full', probes: ['syscalls'] });
    let l: ComponentProbeRecord | undefined;
    let f: ComponentProbeRecord | undefined;
    try {
      full.begin(targets);
      lean.begin(targets);
      await new Promise((r) => setTimeout(r, 2000)); // 5 periods of 400 ms, inside the 4 s loop
    } finally {
      l = lean.end().components.spinner;
      f = full.end().components.spinner;
      full.close();
      lean.close();
    }
    assert.ok(l !== undefined && f !== undefined);
    const share = l.syscalls.countedShare;
    assert.ok(share > 0.08 && share < 0.2, `counted share ${share}`);
    const exact = f.syscalls.total;
    const estimate = l.syscalls.total;
    assert.ok(Math.round(estimate * share) < exact, `counted ${Math.round(estimate * share)} of ${exact}`);
    assert.ok(Math.abs(estimate - exact) <= 0.2 * exact, `estimate ${estimate}, exact ${exact}`);
    spinner.kill('SIGKILL');
  });
});
