import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  fabricBatch, inBenchmarkRange, nodeBatch, nodePlan, podBatch, podHostBatch, podPlan, serviceVip, validateRunId,
} from '../../harness/platforms/netns/addressPlan';
import { serviceChainRules } from '../../harness/platforms/netns/kubeProxy';
import { connectionsOnPath, orderPath, pairConnections, parseProcNetTcp, type OwnedSocket } from '../../harness/platforms/netns/procNet';
import { claimState, readState, removeState, writeState, type ClusterState } from '../../harness/platforms/netns/stateFile';
import { BadInputError, EnvironmentError } from '../../harness/errors';

describe('netns address plan', () => {
  const n1 = nodePlan('ab12', 1);
  const n2 = nodePlan('ab12', 2);

  it('names everything with the mb- prefix and uses only 198.18.0.0/15', () => {
    const pod = podPlan('ab12', 'client', n1, 0);
    assert.equal(n1.netns, 'mb-ab12-node1');
    assert.equal(pod.netns, 'mb-ab12-pod-client');
    const lines = [...fabricBatch([n1, n2]), ...nodeBatch(n1, [n1, n2]), ...podHostBatch(pod, n1), ...podBatch(pod, n1)].join('\n');
    const addresses = lines.match(/\d+\.\d+\.\d+\.\d+/g) ?? [];
    assert.ok(addresses.length > 5);
    for (const a of addresses) assert.ok(inBenchmarkRange(a), `${a} outside 198.18.0.0/15`);
    assert.ok(inBenchmarkRange(serviceVip(0)));
    assert.ok(!inBenchmarkRange('10.0.0.1'));
    assert.ok(!/default/.test(lines), 'no default route: nothing can reach the uplink');
  });

  it('gives distinct pod addresses per node and slot, routes node to node', () => {
    const a = podPlan('ab12', 'a', n1, 0);
    const b = podPlan('ab12', 'b', n1, 1);
    const c = podPlan('ab12', 'c', n2, 0);
    assert.deepEqual([a.ip, b.ip, c.ip], ['198.18.17.2', '198.18.17.3', '198.18.18.2']);
    assert.notEqual(a.hostVeth, b.hostVeth);
    assert.ok(nodeBatch(n1, [n1, n2]).includes(`route add ${n2.podCidr} via ${n2.fabricIp} dev eth0`));
    assert.ok(podBatch(a, n1).includes('route add 198.18.0.0/15 via 198.18.17.1 dev eth0'));
    for (const name of [a.hostVeth, n1.fabricVeth, 'mbbr0']) assert.ok(name.length <= 15);
  });

  it('rejects bad names and out-of-range indices', () => {
    assert.throws(() => validateRunId('BAD id'), BadInputError);
    assert.throws(() => podPlan('ab12', 'Bad_Name', n1, 0), BadInputError);
    assert.throws(() => nodePlan('ab12', 0), BadInputError);
    assert.throws(() => podPlan('ab12', 'x', n1, 10_000), BadInputError);
  });
});

describe('kube-proxy DNAT rules', () => {
  it('sends a service address to its endpoints with kube-proxy probabilities', () => {
    const rules = serviceChainRules({ index: 0, vip: '198.19.0.10', port: 80, targetPort: 8080, endpoints: [{ ip: '198.18.17.2' }, { ip: '198.18.18.2' }] });
    assert.match(rules, /-A MB-SERVICES -d 198\.19\.0\.10\/32 -p tcp -m tcp --dport 80 -j MB-SVC-0/);
    assert.match(rules, /--probability 0\.50000 -j DNAT --to-destination 198\.18\.17\.2:8080/);
    assert.match(rules, /-A MB-SVC-0 -p tcp -j DNAT --to-destination 198\.18\.18\.2:8080/);
    assert.match(rules, /^\*nat\n[\s\S]*COMMIT\n$/);
  });
});

describe('/proc/net/tcp reading and connection pairing', () => {
  it('decodes addresses, ports and states', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 021112C6:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0',
      '   1: 021112C6:1F90 021111C6:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 5678 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    const s = parseProcNetTcp(text);
    assert.deepEqual(s.map((x) => [x.local, x.remote, x.state, x.inode]), [
      ['198.18.17.2:8080', '0.0.0.0:0', 10, 1234],
      ['198.18.17.2:8080', '198.17.17.2:54000', 1, 5678],
    ]);
  });

  it('pairs ends through DNAT and REDIRECT by source address and orders the path', () => {
    const sock = (component: string, netns: string, local: string, remote: string): OwnedSocket => ({ component, netns, local, remote, state: 1, inode: 0 });
    const sockets = [
      sock('client', 'c', '198.18.17.2:40000', '198.19.0.10:80'),
      sock('node1-proxy', 'n1', '198.18.17.1:15001', '198.18.17.2:40000'),
      sock('node1-proxy', 'n1', '198.18.0.11:41000', '198.18.0.12:15008'),
      sock('node2-proxy', 'n2', '198.18.0.12:15008', '198.18.0.11:41000'),
      sock('node2-proxy', 'n2', '198.18.18.1:42000', '198.18.18.2:8080'),
      sock('server', 's', '198.18.18.2:8080', '198.18.18.1:42000'),
    ];
    const listening = new Map([['n1', new Set([15001, 15008])], ['n2', new Set([15001, 15008])], ['s', new Set([8080])], ['c', new Set<number>()]]);
    const pairs = pairConnections([...sockets].reverse(), listening);
    assert.equal(pairs.length, 3);
    const path = orderPath(pairs, 'client');
    assert.deepEqual(path.map((c) => `${c.from}>${c.to}`), ['client>node1-proxy', 'node1-proxy>node2-proxy', 'node2-proxy>server']);
    assert.equal(path[0]?.dialled, '198.19.0.10:80');
  });

  it('follows a proxy that appears twice on the path', () => {
    const c = (from: string, to: string): { from: string; to: string; source: string; dialled: string; accepted: string } => ({ from, to, source: '', dialled: '', accepted: '' });
    const path = orderPath([c('node1-proxy', 'server'), c('waypoint', 'node1-proxy'), c('client', 'node1-proxy'), c('node1-proxy', 'waypoint')], 'client');
    assert.deepEqual(path.map((x) => x.to), ['node1-proxy', 'waypoint', 'node1-proxy', 'server']);
  });

  it('counts the connections on the path, not the idle ones proxies keep pooled from earlier load', () => {
    const c = (from: string, to: string): { from: string; to: string; source: string; dialled: string; accepted: string } => ({ from, to, source: '', dialled: '', accepted: '' });
    const fresh = [c('client', 'node1-proxy'), c('node1-proxy', 'waypoint'), c('waypoint', 'node1-proxy'), c('node1-proxy', 'server')];
    assert.equal(connectionsOnPath(fresh, 'client'), 4);
    // after a step: pooled node1-proxy↔waypoint and proxy→server connections (more than the walk's limit of 12)
    const pooled = [...fresh, ...Array.from({ length: 5 }, () => [c('node1-proxy', 'waypoint'), c('waypoint', 'node1-proxy'), c('node1-proxy', 'server')]).flat()];
    assert.equal(pooled.length, 19);
    assert.equal(connectionsOnPath(pooled, 'client'), 4);
    assert.equal(connectionsOnPath([c('client', 'server')], 'client'), 1);
  });
});

describe('netns state file', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-state-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });
  const state = (runId: string, pid: number): ClusterState => ({ runId, pid, startedAt: '', namespaces: [], cgroup: `run-${runId}`, workDir: '', bpfPins: [] });

  it('refuses a second run while state is present and says to run cleanup', () => {
    claimState(state('aaa', 999_999_999), dir);
    assert.throws(() => claimState(state('bbb', process.pid), dir), (err: unknown) => err instanceof EnvironmentError && /meshbench cleanup/.test(err.userLine()) && /process is gone/.test(err.message));
    writeState({ ...state('aaa', process.pid), namespaces: ['mb-aaa-node1'] }, dir);
    assert.deepEqual(readState(dir)?.namespaces, ['mb-aaa-node1']);
    assert.throws(() => claimState(state('ccc', process.pid), dir), /still running/);
    removeState(dir);
    assert.equal(readState(dir), undefined);
    claimState(state('ddd', process.pid), dir);
    assert.equal(readState(dir)?.runId, 'ddd');
  });

  it('treats a torn state file as present', () => {
    fs.writeFileSync(path.join(dir, 'state.json'), '{"runId": "x", ');
    assert.equal(readState(dir)?.runId, 'unknown');
    assert.throws(() => claimState(state('eee', process.pid), dir), EnvironmentError);
  });
});
