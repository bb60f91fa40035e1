import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { CgroupTree, type Cgroup } from '../../harness/cgroupTree';
import { ProbeSession } from '../../harness/probes/probeSession';
import { removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import { isRoot } from './netnsLeftovers';
import { settledBpfLeftovers } from './bpfLeftovers';
import * as bpf from '../../bpf/bpfBindings';

/*
 * Probe accuracy on known work: a process in a registered cgroup sends exactly N bytes (counted >= N and
 * <= N + headers), opens K connections (counted K), sleeps and wakes M times (>= M voluntary switches); a
 * process in an unregistered cgroup is not counted. Cgroups and BPF objects are removed even on failure.
 */
const workload = path.join(__dirname, 'fixtures', 'probeWorkload.js');
const run = `probe-test-${process.pid}`;

interface Worker { proc: ChildProcess; done: Promise<void> }

function startWorker(tree: CgroupTree, cg: Cgroup, args: string[]): Worker {
  const proc = spawn(process.execPath, [workload, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  tree.enter(cg, proc.pid as number);
  const done = new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    proc.on('exit', (code) => (code === 0 && out.includes('done') ? resolve() : reject(new Error(`workload ${args.join(' ')} exited ${code}`))));
  });
  return { proc, done };
}

describe('probe accuracy (root)', function () {
  this.timeout(30_000);
  let tree: CgroupTree;
  let server: net.Server;
  let port = 0;
  const workers: Worker[] = [];

  before(async function () {
    if (!isRoot()) this.skip();
    tree = new CgroupTree();
    server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); s.on('error', () => undefined); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });

  afterEach(() => {
    for (const w of workers.splice(0)) w.proc.kill('SIGKILL');
  });

  after(async () => {
    if (!isRoot()) return;
    server.close();
    tree.remove(run);
    removeEmptyMeshbenchRoots();
    assert.deepEqual(bpf.openHandles(), { objects: 0, links: 0, perfFds: 0 });
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('counts exactly the bytes sent, K connections, M voluntary switches; ignores unregistered cgroups', async () => {
    const n = 1_000_003;
    const k = 7;
    const m = 50;
    const sender = tree.create(`${run}/sender`);
    const connector = tree.create(`${run}/connector`);
    const sleeper = tree.create(`${run}/sleeper`);
    const stranger = tree.create(`${run}/stranger`);
    const ws = [
      startWorker(tree, sender, ['send', '127.0.0.1', String(port), String(n)]),
      startWorker(tree, connector, ['connect', '127.0.0.1', String(port), String(k)]),
      startWorker(tree, sleeper, ['sleep', String(m)]),
      startWorker(tree, stranger, ['send', '127.0.0.1', String(port), String(3 * n)]),
    ];
    workers.push(...ws);
    const session = ProbeSession.start([
      { name: 'sender', v2Path: sender.v2Path },
      { name: 'connector', v2Path: connector.v2Path },
      { name: 'sleeper', cgroupId: sleeper.id },
    ]);
    let result;
    try {
      for (const w of ws) w.proc.stdin?.write('go\n');
      await Promise.all(ws.map((w) => w.done));
    } finally {
      result = session.stop();
    }
    const s = result.components.sender;
    const c = result.components.connector;
    const z = result.components.sleeper;
    assert.ok(s !== undefined && c !== undefined && z !== undefined);
    assert.ok(s.bytesSent >= n && s.bytesSent <= n + 1500, `sender bytesSent ${s.bytesSent} for ${n}`);
    assert.equal(s.connectionsOpened, 1);
    assert.equal(c.connectionsOpened, k);
    assert.equal(c.connectionsEstablished, k);
    assert.equal(c.connectionsClosed, k);
    assert.ok(c.handshakeUsP99 !== null && c.handshakeUsP99 > 0);
    assert.equal(c.bytesSent, 0);
    assert.ok(z.contextSwitchesVoluntary >= m, `sleeper voluntary switches ${z.contextSwitchesVoluntary} for ${m} sleeps`);
    assert.equal(z.bytesSent, 0);
    assert.equal(z.connectionsOpened, 0);
    assert.ok(z.syscalls.total > 0 && (z.syscalls.byName.epoll_wait?.count ?? z.syscalls.byName.epoll_pwait?.count ?? 0) > 0);
    // every byte sent leaves through lo once, with at most 128 bytes of headers per packet
    const loTx = (s.packets ?? []).filter((p) => p.device === 'lo' && p.direction === 'tx');
    assert.equal(loTx.length, 1, JSON.stringify(s.packets));
    const tx = loTx[0]!;
    // (a retransmitted skb, which a loaded 2-core machine can provoke on lo, leaves again: up to 64 KiB with GSO)
    const resent = 65536 * (s.retransmits ?? 0);
    assert.ok(tx.bytes >= n && tx.bytes <= n + 128 * tx.packets + resent, `sender lo tx ${tx.bytes} B in ${tx.packets} packets for ${n} (${s.retransmits} retransmits)`);
    // the stranger's 3N bytes and the server's N+3N received bytes live in unregistered cgroups
    assert.ok(!('stranger' in result.components));
    assert.equal(s.bytesReceived, 0);
    assert.ok(result.probes.find((p) => p.name === 'extras')?.available === false);
  });
});
