import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expectedConnections } from '../../harness/dataplanes/dataPlaneFactory';
import { Cluster } from '../../harness/platforms/netns/cluster';
import { cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { EchoDeployment } from '../../harness/platforms/netns/echoDeployment';
import type { DataPlaneName } from '../../harness/profile/profileSchema';
import { runLoadProcess } from '../../harness/runner/loadProcess';
import type { Placement } from '../../harness/runner/platformSession';
import { EnvironmentError } from '../../harness/errors';
import { runCli } from '../helpers/cli';
import { KernelDataPlane } from '../../harness/dataplanes/kernel';
import { defaultDataPlaneOptions } from '../../harness/dataplanes/dataPlane';
import { cliScript } from '../../harness/runner/loadProcess';
import { cgroupAttachments, findLeftovers, isRoot, settledLeftovers, type Leftovers } from './netnsLeftovers';

/*
 * The netns platform as root: every data plane serves requests and takes exactly the design table's number
 * of connections; cluster lifecycle (timing, idempotence, refusal on leftover state, kill -9 + cleanup);
 * nothing remains afterwards. One cluster per data plane and placement, built in before() and removed in
 * after(), also when an assertion fails.
 */

function bpfDescriptors(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).map((fd) => { try { return fs.readlinkSync(path.join(dir, fd)); } catch { return ''; } }).filter((l) => l.startsWith('anon_inode:bpf'));
}

function assertClean(l: Leftovers): void {
  assert.deepEqual(l, { namespaces: [], cgroupDirs: [], rootIptables: [], bpfLinks: [], bpfPrograms: [], bpfPins: [], processes: [], stateFiles: [] });
}

describe('netns platform (root)', function () {
  this.timeout(60_000);

  before(function () {
    if (!isRoot()) this.skip();
  });

  after(async () => {
    if (!isRoot()) return;
    // Whatever a failed test left, cleanup must remove; then nothing of meshbench may remain.
    await cleanupEverything();
    assertClean(await settledLeftovers());
  });

  const planes: ReadonlyArray<readonly [DataPlaneName, Placement]> = [
    ['baseline', 'cross-node'], ['baseline', 'same-node'],
    ['sidecar', 'cross-node'], ['sidecar', 'same-node'],
    ['ambient', 'cross-node'], ['ambient', 'same-node'],
    ['waypoint', 'cross-node'], ['waypoint', 'same-node'],
    ['kernel', 'cross-node'], ['kernel', 'same-node'],
    ['dual', 'cross-node'], ['dual', 'same-node'],
  ];

  for (const [dataplane, placement] of planes) {
    describe(`${dataplane}, ${placement}`, () => {
      let d: EchoDeployment | undefined;
      before(async () => { d = await EchoDeployment.create({ dataplane, placement }); });
      after(async () => { await d?.destroy(); d = undefined; });

      it(`takes exactly ${expectedConnections[dataplane]} connection(s) per request path`, async () => {
        const check = await d!.checkPath(3);
        assert.deepEqual(check.statuses, [200, 200, 200]);
        assert.equal(check.connectionsOnPath, expectedConnections[dataplane], JSON.stringify(check.connections));
        assert.equal(check.hops[0], 'client');
        assert.equal(check.hops.at(-1), 'server');
      });

      if (placement === 'cross-node') {
        it('serves a fixed-rate load from the client pod without errors', async () => {
          const result = await runLoadProcess(d!.clientPrefix(), {
            args: [d!.targetUrl, '--qps', '200', '--connections', '2', '--duration', '1s'],
            onMeasuring: () => undefined, onProgress: () => undefined, signal: new AbortController().signal,
          });
          assert.ok(result.requestsCompleted >= 150, `only ${result.requestsCompleted} requests`);
          assert.equal(result.requestsFailed, 0, JSON.stringify(result.errorsByKind));
        });
      }
    });
  }

  describe('mTLS between proxies', () => {
    for (const dataplane of ['sidecar', 'waypoint'] as const) {
      it(`${dataplane}: requests pass with certificates the run generated, over the same number of connections`, async () => {
        const d = await EchoDeployment.create({ dataplane, placement: 'cross-node', dataPlaneOptions: { mtls: true } });
        try {
          const check = await d.checkPath(2);
          assert.deepEqual(check.statuses, [200, 200]);
          assert.equal(check.connectionsOnPath, expectedConnections[dataplane]);
        } finally {
          await d.destroy();
        }
      });
    }
  });

  describe('gRPC through the L7 proxies (HTTP/2 on every hop)', () => {
    // The echo server speaks gRPC over h2c only, so an answer proves the last hop was HTTP/2; the client's
    // first hop is h2c too, and the proxies between are configured HTTP/2 (unit tests hold the configs).
    const cases: ReadonlyArray<readonly [DataPlaneName, boolean]> = [['sidecar', false], ['waypoint', false], ['sidecar', true]];
    for (const [dataplane, mtls] of cases) {
      it(`${dataplane}${mtls ? ' with mTLS (ALPN h2)' : ''}: gRPC calls pass over exactly ${expectedConnections[dataplane]} connections${mtls ? '' : ', and a fixed-rate gRPC load without errors'}`, async () => {
        const d = await EchoDeployment.create({ dataplane, placement: 'cross-node', protocol: 'grpc', dataPlaneOptions: { mtls } });
        try {
          assert.match(d.targetUrl, /^grpc:\/\/198\.19\.0\.\d+:80$/);
          const check = await d.checkPath(3);
          assert.deepEqual(check.statuses, [200, 200, 200]);
          assert.equal(check.connectionsOnPath, expectedConnections[dataplane], JSON.stringify(check.connections));
          assert.equal(check.hops[0], 'client');
          assert.equal(check.hops.at(-1), 'server');
          if (mtls) return;
          const result = await runLoadProcess(d.clientPrefix(), {
            args: [d.targetUrl, '--qps', '200', '--connections', '2', '--streams', '2', '--duration', '1s'],
            onMeasuring: () => undefined, onProgress: () => undefined, signal: new AbortController().signal,
          });
          assert.ok(result.requestsCompleted >= 150, `only ${result.requestsCompleted} calls`);
          assert.equal(result.requestsFailed, 0, JSON.stringify(result.errorsByKind));
          // The load's connections were the client's h2c sessions: one per --connections, however many streams.
          assert.equal(result.socketsOpened, 2);
        } finally {
          await d.destroy();
        }
      });
    }
  });

  describe('eBPF data planes', () => {
    for (const placement of ['same-node', 'cross-node'] as const) {
      it(`kernel, ${placement}: connect4 dials the server itself, sockmap only on one node; attached only to the pods' cgroups; uninstall leaves no program`, async () => {
        const d = await EchoDeployment.create({ dataplane: 'kernel', placement });
        try {
          const plane = d.dataPlane as KernelDataPlane;
          const check = await d.checkPath(3);
          assert.deepEqual(check.statuses, [200, 200, 200]);
          assert.deepEqual(check.hops, ['client', 'server']);
          // Rewritten before the SYN: the client's socket is connected to the pod, not to the service address.
          assert.equal(check.connections[0]?.dialled, `${d.server.ip}:8080`);
          const load = await runLoadProcess(d.clientPrefix(), {
            args: [d.targetUrl, '--qps', '200', '--connections', '2', '--duration', '1s'],
            onMeasuring: () => undefined, onProgress: () => undefined, signal: new AbortController().signal,
          });
          assert.ok(load.requestsCompleted >= 150, `only ${load.requestsCompleted} requests`);
          assert.equal(load.requestsFailed, 0, JSON.stringify(load.errorsByKind));
          const stats = await plane.stats();
          assert.ok(stats.connectsSteered >= 3, JSON.stringify(stats));
          if (placement === 'same-node') {
            assert.ok(stats.socketsAdded >= 6 && stats.messagesRedirected >= 200, JSON.stringify(stats));
          } else {
            assert.equal(stats.socketsAdded, 0, JSON.stringify(stats));
            assert.equal(stats.messagesRedirected, 0, JSON.stringify(stats));
          }
          // The loader's descriptors stay in this process: a pod that inherited one would keep the programs alive.
          for (const p of d.cluster.liveProcesses()) assert.deepEqual(bpfDescriptors(p.pid), [], `${p.component} holds BPF objects`);
          // bpftool cgroup tree: connect4 and sockops on exactly the two enrolled pods' cgroups, nowhere else.
          const ours = cgroupAttachments().filter((a) => a.program.startsWith('mb_'));
          const runRoot = `${d.cluster.runCgroupV2Path}/`;
          assert.deepEqual(ours.map((a) => `${a.cgroup.slice(runRoot.length)} ${a.program}`).sort(),
            ['client mb_connect4', 'client mb_sockops', 'server mb_connect4', 'server mb_sockops']);
          assert.ok(ours.every((a) => a.cgroup.startsWith(runRoot)), JSON.stringify(ours));
          await d.dataPlane.uninstall();
          const left = await settledLeftovers((l) => l.bpfPrograms.length === 0 && l.bpfPins.length === 0);
          assert.deepEqual(left.bpfPrograms, []);
          assert.deepEqual(left.bpfPins, []);
          assert.deepEqual(cgroupAttachments().filter((a) => a.program.startsWith('mb_')), []);
        } finally {
          await d.destroy();
        }
      });
    }

    for (const balance of ['round-robin', 'random'] as const) {
      it(`kernel, ${balance}: the program picks among a service's endpoints as the control plane said`, async () => {
        const cluster = await Cluster.create({ pods: [{ name: 'client', node: 'node1' }, { name: 's1', node: 'node1' }, { name: 's2', node: 'node2' }] });
        const plane = new KernelDataPlane('kernel', { ...defaultDataPlaneOptions, balance });
        try {
          const service = await cluster.addService('echo', 80, 8080, ['s1', 's2']);
          await plane.install({ cluster, services: [service] });
          for (const pod of cluster.allPods()) await plane.enrol(pod);
          for (const pod of service.endpoints) {
            const echo = cluster.start({ component: pod.name, role: 'server', node: pod.node, netns: pod.netns, argv: [process.execPath, cliScript, 'echo', '--host', pod.ip, '--port', '8080'] });
            await cluster.waitListening(echo, 8080);
          }
          const client = cluster.pod('client');
          const draws = balance === 'round-robin' ? 8 : 32;
          const proc = cluster.start({ component: 'client', role: 'client', node: client.node, netns: client.netns, argv: [process.execPath, path.join(__dirname, 'fixtures', 'peerAddresses.js'), service.vip, '80', String(draws)] });
          await new Promise((r) => proc.child.once('exit', r));
          const peers = JSON.parse(proc.output().trim().split('\n').pop() ?? '[]') as string[];
          assert.equal(peers.length, draws, proc.output());
          const [a, b] = service.endpoints.map((e) => `${e.ip}:8080`);
          assert.ok(peers.every((p) => p === a || p === b), JSON.stringify(peers));
          if (balance === 'round-robin') peers.slice(1).forEach((p, i) => assert.notEqual(p, peers[i], JSON.stringify(peers)));
          else assert.ok(peers.includes(a ?? '') && peers.includes(b ?? ''), JSON.stringify(peers));
        } finally {
          await plane.uninstall();
          await cluster.destroy();
        }
      });
    }

    it('kernel: a deployment that fails to start releases the loaded programs with its cluster', async () => {
      await assert.rejects(EchoDeployment.create({ dataplane: 'kernel', placement: 'cross-node', serverArgs: ['--delay', 'soon'] }), /exited while starting/);
      const left = await settledLeftovers((l) => l.bpfPrograms.length === 0);
      assert.deepEqual(left.bpfPrograms, []);
      assert.deepEqual(left.namespaces, []);
    });

    it('dual: connect4 steers every connection to the waypoint, which alone dials the server', async () => {
      const d = await EchoDeployment.create({ dataplane: 'dual', placement: 'cross-node' });
      try {
        const check = await d.checkPath(2);
        assert.deepEqual(check.hops, ['client', 'waypoint', 'server']);
        assert.equal(check.connections[0]?.dialled, `${d.cluster.pod('waypoint').ip}:15008`);
        // The counters cluster check prints: the one connect went to the waypoint, none straight to a backend.
        const counters = check.dataPlaneCounters ?? {};
        assert.equal(counters.connectsToWaypoint, 1, JSON.stringify(counters));
        assert.equal(counters.connectsSteered, 0, JSON.stringify(counters));
      } finally {
        await d.destroy();
      }
    });
  });

  describe('cluster lifecycle', () => {
    it('creates and destroys a 2-node cluster with a client and a server pod in under 3 s each, idempotently', async () => {
      const t0 = Date.now();
      const cluster = await Cluster.create({ pods: [{ name: 'client', node: 'node1' }, { name: 'server', node: 'node2' }] });
      const createMs = Date.now() - t0;
      try {
        assert.equal(cluster.allNamespaces().length, 5);
        assert.ok(createMs < 3000, `create took ${createMs} ms`);
      } finally {
        const t1 = Date.now();
        await cluster.destroy();
        const destroyMs = Date.now() - t1;
        assert.ok(destroyMs < 3000, `destroy took ${destroyMs} ms`);
        await cluster.destroy();
      }
      assertClean(await settledLeftovers());
    });

    it('refuses to start while a previous run\'s state is present, and says to run cleanup', async () => {
      const first = await Cluster.create({ pods: [] });
      try {
        await assert.rejects(Cluster.create({ pods: [] }), (err: unknown) => err instanceof EnvironmentError && /meshbench cleanup/.test(err.userLine()));
      } finally {
        await first.destroy();
      }
    });

    for (const dataplane of ['sidecar', 'kernel'] as const) it(`after kill -9 of a ${dataplane} run, meshbench cleanup leaves nothing`, async () => {
      const fixture = path.join(__dirname, 'fixtures', 'holdCluster.js');
      const child = spawn(process.execPath, [fixture, dataplane], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const line = await new Promise<string>((resolve) => {
          let out = '';
          child.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('\n')) resolve(out.trim()); });
          child.on('exit', () => resolve(out.trim()));
        });
        assert.equal(line, 'ready');
        const before = findLeftovers();
        assert.ok(before.namespaces.length >= 5 && before.processes.length >= (dataplane === 'kernel' ? 1 : 3), JSON.stringify(before));
        if (dataplane === 'kernel') assert.ok(before.bpfPrograms.length >= 3, JSON.stringify(before));
        const echoPid = before.processes.find((p) => / echo --host /.test(p))?.split(' ')[0];
        const echoMap = echoPid === undefined ? undefined : `/tmp/perf-${echoPid}.map`;
        const echoMapExisted = echoMap !== undefined && fs.existsSync(echoMap);
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const blocked = await runCli(['cluster', 'check', '--dataplane', 'baseline']);
        assert.notEqual(blocked.code, 0);
        assert.match(blocked.stderr, /meshbench cleanup/);
        const cleaned = await runCli(['cleanup']);
        assert.equal(cleaned.code, 0, cleaned.stderr);
        assert.match(cleaned.stdout, /removed \d+ namespaces/);
        assertClean(await settledLeftovers());
        // The echo server's perf map (V8 writes it; meshbench, killed, could not remove it) goes with cleanup.
        assert.ok(echoMap !== undefined && echoMapExisted, `the echo server wrote a perf map: ${before.processes.join('; ')}`);
        assert.equal(fs.existsSync(echoMap), false, 'cleanup removed the echo server\'s perf map');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });

  describe('meshbench cluster check', () => {
    it('prints the path and connectionsOnPath as JSON, and tears down', async () => {
      const r = await runCli(['cluster', 'check', '--dataplane', 'ambient', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const check = JSON.parse(r.stdout) as { connectionsOnPath: number; hops: string[] };
      assert.equal(check.connectionsOnPath, 3);
      assert.deepEqual(check.hops, ['client', 'node1-proxy', 'node2-proxy', 'server']);
      assertClean(await settledLeftovers());
    });

    it('answers bad input with one line and a non-zero exit', async () => {
      for (const args of [['--dataplane', 'istio'], ['--dataplane', 'sidecar', '--placement', 'moon'], ['--dataplane', 'sidecar', '--workers', '0'], ['--dataplane', 'kernel', '--balance', 'sticky'], ['--dataplane', 'sidecar', '--protocol', 'h3']]) {
        const r = await runCli(['cluster', 'check', ...args]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    });
  });
});
