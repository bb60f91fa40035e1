import assert from 'node:assert/strict';
import { nodePlan, podPlan } from '../../harness/platforms/netns/addressPlan';
import type { ServicePlan } from '../../harness/platforms/netns/cluster';
import { renderHaproxyConfig } from '../../harness/dataplanes/haproxyConfig';
import { dualWaypointPort, dualWaypointSpec, steeredServices } from '../../harness/dataplanes/kernel';
import { requireMeshbenchCgroup } from '../../harness/dataplanes/steeringLoader';
import { backendKey, decodeSteeringStats, endpointEntry, serviceEntries, serviceKey } from '../../harness/dataplanes/steeringMaps';
import { EnvironmentError } from '../../harness/errors';

const n1 = nodePlan('t1', 1);
const n2 = nodePlan('t1', 2);
const server = podPlan('t1', 'server', n2, 0);
const server2 = podPlan('t1', 'server2', n1, 1);
const waypoint = podPlan('t1', 'waypoint', n2, 1);
const echo: ServicePlan = { name: 'echo', index: 3, vip: '198.19.0.13', port: 80, targetPort: 8080, endpoints: [server, server2] };

describe('kernel data plane: map layouts and control plane', () => {
  it('encodes a service key as the wire-order address and port connect4 sees', () => {
    assert.equal(serviceKey('198.19.0.10', 80).toString('hex'), 'c613000a' + '0050' + '0000');
  });

  it('describes a service: backends in rotation order, the count and policy in the service row', () => {
    const [s] = steeredServices([echo], new Map(), 'random');
    assert.ok(s !== undefined);
    const e = serviceEntries(s);
    assert.equal(e.services.key.toString('hex'), 'c613000d00500000');
    // id 3, 2 backends, policy random (1), no waypoint
    assert.equal(e.services.value.toString('hex'), '03000000' + '02000000' + '01000000' + '00000000' + '0000' + '0000');
    assert.deepEqual(e.backends.map((b) => b.key.toString('hex')), [backendKey(3, 0).toString('hex'), backendKey(3, 1).toString('hex')]);
    assert.equal(e.backends[0]?.value.toString('hex'), 'c6121202' + '1f90' + '0000'); // 198.18.18.2:8080
    assert.equal(e.backends[1]?.value.toString('hex'), 'c6121103' + '1f90' + '0000'); // 198.18.17.3:8080
  });

  it('dual: the service row carries the waypoint, which takes every connection', () => {
    const [s] = steeredServices([echo], new Map([['echo', waypoint]]), 'round-robin');
    assert.deepEqual(s?.waypoint, { ip: waypoint.ip, port: dualWaypointPort });
    const v = serviceEntries(s!).services.value;
    assert.equal(v.readUInt32LE(8), 0);
    assert.equal(v.subarray(12, 18).toString('hex'), 'c6121203' + '3aa0'); // 198.18.18.3:15008
  });

  it('rejects what the program could not use', () => {
    const many = Array.from({ length: 65 }, () => ({ ip: '198.18.17.2', port: 8080 }));
    assert.throws(() => serviceEntries({ id: 0, vip: '198.19.0.10', port: 80, backends: many, policy: 'round-robin' }), RangeError);
    assert.throws(() => serviceEntries({ id: 256, vip: '198.19.0.10', port: 80, backends: [], policy: 'round-robin' }), RangeError);
    assert.throws(() => serviceKey('198.19.0', 80), RangeError);
    assert.throws(() => serviceKey('198.19.0.10', 0), RangeError);
  });

  it('maps an endpoint address to its node index', () => {
    const e = endpointEntry('198.18.17.2', 1);
    assert.equal(e.key.toString('hex'), 'c6121102');
    assert.equal(e.value.toString('hex'), '01000000');
  });

  it('sums per-CPU counters into named stats', () => {
    const u64s = (...v: number[]): Buffer => Buffer.concat(v.map((x) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(x)); return b; }));
    const key = (i: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(i); return b; };
    const stats = decodeSteeringStats([{ key: key(1), value: u64s(2, 3) }, { key: key(4), value: u64s(10, 0) }, { key: key(99), value: u64s(1) }]);
    assert.equal(stats.connectsSteered, 5);
    assert.equal(stats.messagesRedirected, 10);
    assert.equal(stats.connectsSeen, 0);
  });

  it('attaches only below the run\'s own cgroup folder', () => {
    const run = '/sys/fs/cgroup/unified/meshbench/run-abc';
    assert.equal(requireMeshbenchCgroup(`${run}/client`, run), `${run}/client`);
    for (const bad of [run, '/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/meshbench', `${run}/../run-other/client`, '/sys/fs/cgroup/unified/system.slice', `${run}-x/client`]) {
      assert.throws(() => requireMeshbenchCgroup(bad, run), EnvironmentError, bad);
    }
  });

  it('dual: the waypoint takes plain HTTP and balances over the endpoints', () => {
    const cfg = renderHaproxyConfig(dualWaypointSpec(echo, 2));
    assert.match(cfg, /bind 0\.0\.0\.0:15008\n/);
    assert.doesNotMatch(cfg, /accept-proxy|send-proxy/);
    assert.match(cfg, /server server 198\.18\.18\.2:8080\n/);
    assert.match(cfg, /server server2 198\.18\.17\.3:8080\n/);
  });
});
