import assert from 'node:assert/strict';
import { nodePlan, podPlan } from '../../harness/platforms/netns/addressPlan';
import type { ServicePlan } from '../../harness/platforms/netns/cluster';
import { renderHaproxyConfig } from '../../harness/dataplanes/haproxyConfig';
import { SidecarDataPlane, sidecarIptables, sidecarProxySpec } from '../../harness/dataplanes/sidecar';
import { defaultDataPlaneOptions } from '../../harness/dataplanes/dataPlane';
import { proxyPinning } from '../../harness/platforms/netns/echoDeployment';
import type { Cluster } from '../../harness/platforms/netns/cluster';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ambientRedirectRules, nodeProxySpec, waypointSpec } from '../../harness/dataplanes/ambient';
import { expectedConnections, parseDataPlaneName } from '../../harness/dataplanes/dataPlaneFactory';
import { l7Hop } from '../../harness/dataplanes/dataPlane';
import { dualWaypointSpec } from '../../harness/dataplanes/kernel';
import { echoProtocolArgs, protocolTargetUrl } from '../../harness/platforms/workloadProtocol';
import { protocolLoadArgs } from '../../harness/runner/loadProcess';
import { pingRequestFrame } from '../../harness/platforms/netns/holdClient';
import { workloadProtocols } from '../../harness/profile/profileSchema';
import { BadInputError } from '../../harness/errors';

const n1 = nodePlan('t1', 1);
const n2 = nodePlan('t1', 2);
const client = podPlan('t1', 'client', n1, 0);
const server = podPlan('t1', 'server', n2, 0);
const waypoint = podPlan('t1', 'waypoint', n2, 1);
const echo: ServicePlan = { name: 'echo', index: 0, vip: '198.19.0.10', port: 80, targetPort: 8080, endpoints: [server] };
const tls = { crt: '/run/meshbench/run-t1/certs/x.pem', ca: '/run/meshbench/run-t1/certs/ca.pem' };

describe('data plane configuration', () => {
  it('cpuPinning.proxies workload: each sidecar proxy starts on its own pod\'s workload CPUs, a list pins every proxy', async () => {
    assert.deepEqual(proxyPinning({ client: '0', server: '1', proxies: 'workload' }), { proxyCpusByPod: { client: '0', server: '1' } });
    assert.deepEqual(proxyPinning({ server: '1', proxies: 'workload' }), { proxyCpusByPod: { server: '1' } });
    assert.deepEqual(proxyPinning({ client: '0', server: '1', proxies: '0-1' }), { proxyCpus: '0-1' });
    assert.deepEqual(proxyPinning({ client: '0' }), {});
    assert.deepEqual(proxyPinning(undefined), {});
    // The sidecar's own enrol path, on a stand-in cluster that records what it would start (no namespaces).
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-pin-'));
    try {
      const started: { component: string; cpus?: string }[] = [];
      const cluster = {
        workDir,
        iptables: async () => undefined,
        start: (o: { component: string; cpus?: string }) => { started.push({ component: o.component, ...(o.cpus === undefined ? {} : { cpus: o.cpus }) }); return { pid: 0 }; },
        waitListening: async () => undefined,
      } as unknown as Cluster;
      const dp = new SidecarDataPlane({ ...defaultDataPlaneOptions, ...proxyPinning({ client: '0', server: '1', proxies: 'workload' }) });
      await dp.install({ cluster, services: [echo] });
      await dp.enrol(client);
      await dp.enrol(server);
      assert.deepEqual(started, [{ component: 'client-proxy', cpus: '0' }, { component: 'server-proxy', cpus: '1' }]);
      started.length = 0;
      const unpinnedPod = new SidecarDataPlane({ ...defaultDataPlaneOptions, ...proxyPinning({ server: '1', proxies: 'workload' }) });
      await unpinnedPod.install({ cluster, services: [echo] });
      await unpinnedPod.enrol(client);
      assert.deepEqual(started, [{ component: 'client-proxy' }], 'a pod whose workload floats has a floating proxy');
    } finally {
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('keeps the design table of connections per request', () => {
    assert.deepEqual(expectedConnections, { baseline: 1, sidecar: 3, ambient: 3, waypoint: 4, kernel: 1, dual: 2 });
    assert.equal(parseDataPlaneName('sidecar'), 'sidecar');
    assert.throws(() => parseDataPlaneName('istio'), BadInputError);
  });

  it('sidecar: Istio-style capture with the proxy excluded by owner', () => {
    const rules = sidecarIptables(1337);
    assert.match(rules, /-A MB-OUTPUT -m owner --uid-owner 1337 -j RETURN/);
    assert.match(rules, /-A MB-OUTPUT -p tcp -j REDIRECT --to-ports 15001/);
    assert.match(rules, /-A MB-INBOUND -p tcp -j REDIRECT --to-ports 15006/);
    // the owner exclusion comes before the redirect, or the proxy would loop into itself
    assert.ok(rules.indexOf('--uid-owner') < rules.indexOf('--to-ports 15001'));
  });

  it('sidecar proxy: client side picks the endpoint itself, server side hands to the app', () => {
    const cfg = renderHaproxyConfig(sidecarProxySpec(client, [echo], 2, tls));
    assert.match(cfg, /nbthread 2/);
    assert.match(cfg, /bind 0\.0\.0\.0:15001\n/);
    assert.match(cfg, /use_backend out-echo if \{ dst 198\.19\.0\.10 \} \{ dst_port 80 \}/);
    assert.match(cfg, /server server 198\.18\.18\.2:8080 ssl crt \S+x\.pem ca-file \S+ca\.pem verify required/);
    assert.match(cfg, /bind 0\.0\.0\.0:15006 ssl crt/);
    const serverSide = renderHaproxyConfig(sidecarProxySpec(server, [echo], 4));
    assert.match(serverSide, /nbthread 4/);
    assert.match(serverSide, /backend inbound-app\n    mode http\n    balance roundrobin\n    http-reuse safe\n    server app 198\.18\.18\.2:8080\n/);
    assert.doesNotMatch(serverSide, /ssl crt/);
  });

  it('ambient: node redirect of service traffic, tunnel hop with a PROXY header to the endpoint node', () => {
    assert.match(ambientRedirectRules(client), /-A MB-MESH -i vp0 -p tcp -d 198\.19\.0\.0\/24 -j REDIRECT --to-ports 15001/);
    const src = renderHaproxyConfig(nodeProxySpec(n1, [n1, n2], [echo], new Map(), 2));
    assert.match(src, /mode tcp/);
    assert.match(src, /server node2-proxy 198\.18\.0\.12:15008 send-proxy-v2\n/);
    const dst = renderHaproxyConfig(nodeProxySpec(n2, [n1, n2], [echo], new Map(), 2, tls));
    assert.match(dst, /bind 0\.0\.0\.0:15008 accept-proxy ssl crt/);
    assert.match(dst, /backend local-echo\n    mode tcp\n    balance roundrobin\n    server server 198\.18\.18\.2:8080\n/);
  });

  it('waypoint: the source node proxy tunnels to the waypoint, the waypoint (L7) to the endpoint node', () => {
    const src = renderHaproxyConfig(nodeProxySpec(n1, [n1, n2], [echo], new Map([['echo', waypoint]]), 2));
    assert.match(src, /server waypoint 198\.18\.18\.3:15008 send-proxy-v2/);
    const wp = renderHaproxyConfig(waypointSpec(echo, [n1, n2], 2));
    assert.match(wp, /mode http\n    bind 0\.0\.0\.0:15008 accept-proxy/);
    assert.match(wp, /server node2-proxy 198\.18\.0\.12:15008 send-proxy-v2/);
  });

  describe('per workload protocol', () => {
    /** Every bind and server line of a rendered config. */
    const lines = (cfg: string, kind: 'bind' | 'server'): string[] => cfg.split('\n').filter((l) => l.trimStart().startsWith(`${kind} `));

    it('HTTP/1.1 (the default): L7 hops in mode http, HAProxy picks the version', () => {
      for (const cfg of [sidecarProxySpec(client, [echo], 2), waypointSpec(echo, [n1, n2], 2), dualWaypointSpec(echo, 2)].map(renderHaproxyConfig)) {
        assert.doesNotMatch(cfg, /mode tcp/);
        assert.doesNotMatch(cfg, /proto h2|alpn/);
      }
      assert.deepEqual(renderHaproxyConfig(sidecarProxySpec(client, [echo], 2, tls, 'http')), renderHaproxyConfig(sidecarProxySpec(client, [echo], 2, tls)));
    });

    for (const protocol of ['http2', 'grpc'] as const) {
      it(`${protocol}: HTTP/2 on every bind and server of every L7 hop (sidecar, waypoint, dual's waypoint)`, () => {
        const specs = { sidecar: sidecarProxySpec(client, [echo], 2, undefined, protocol), waypoint: waypointSpec(echo, [n1, n2], 2, undefined, protocol), dual: dualWaypointSpec(echo, 2, protocol) };
        for (const [name, spec] of Object.entries(specs)) {
          const cfg = renderHaproxyConfig(spec);
          assert.doesNotMatch(cfg, /mode tcp/, name);
          const all = [...lines(cfg, 'bind'), ...lines(cfg, 'server')];
          assert.ok(all.length >= 2, name);
          for (const l of all) assert.match(l, / proto h2( pool-low-conn 128)?$/, `${name}: ${l}`);
          assert.doesNotMatch(cfg, /alpn/, `${name}: cleartext hops are h2c with prior knowledge, no ALPN`);
        }
        const sidecar = renderHaproxyConfig(specs.sidecar);
        // HTTP/2 next hops are shared between streams (multiplexed), HTTP/1.1 ones only reused when idle
        assert.match(sidecar, /backend out-echo\n    mode http\n    balance roundrobin\n    http-reuse always\n/);
        assert.doesNotMatch(renderHaproxyConfig(sidecarProxySpec(client, [echo], 2)), /http-reuse always/);
        assert.match(sidecar, /bind 0\.0\.0\.0:15001 proto h2\n/);
        assert.match(renderHaproxyConfig(sidecarProxySpec(server, [echo], 2, undefined, protocol)), /server app 198\.18\.18\.2:8080 proto h2\n/);
        // the waypoint keeps its per-client (PROXY-keyed) HTTP/2 tunnels idle instead of reconnecting
        assert.match(renderHaproxyConfig(specs.waypoint), /bind 0\.0\.0\.0:15008 accept-proxy proto h2\n[\s\S]*server node2-proxy 198\.18\.0\.12:15008 send-proxy-v2 proto h2 pool-low-conn 128\n/);
        // and its HTTP/1.1 ones too (without it: a reconnect per request)
        assert.match(renderHaproxyConfig(waypointSpec(echo, [n1, n2], 2)), /server node2-proxy 198\.18\.0\.12:15008 send-proxy-v2 pool-low-conn 128\n/);
      });

      it(`${protocol} with mTLS: ALPN h2 on the TLS hops, and h2 forced for peers that negotiate nothing`, () => {
        const cfg = renderHaproxyConfig(sidecarProxySpec(client, [echo], 2, tls, protocol));
        assert.match(cfg, /server server 198\.18\.18\.2:8080 ssl crt \S+x\.pem ca-file \S+ca\.pem verify required alpn h2 proto h2\n/);
        assert.match(cfg, /bind 0\.0\.0\.0:15006 ssl crt \S+ ca-file \S+ verify required alpn h2 proto h2\n/);
        // the app's own hop inside the pod stays cleartext h2c
        assert.match(renderHaproxyConfig(sidecarProxySpec(server, [echo], 2, tls, protocol)), /server app 198\.18\.18\.2:8080 proto h2\n/);
        const wp = renderHaproxyConfig(waypointSpec(echo, [n1, n2], 2, tls, protocol));
        assert.match(wp, /bind 0\.0\.0\.0:15008 accept-proxy ssl crt \S+ ca-file \S+ verify required alpn h2 proto h2\n/);
        assert.match(wp, /server node2-proxy 198\.18\.0\.12:15008 send-proxy-v2 ssl crt \S+ ca-file \S+ verify required alpn h2 proto h2 pool-low-conn 128\n/);
      });
    }

    it('the node proxies stay L4 for every protocol: the bytes pass unchanged', () => {
      for (const w of [new Map(), new Map([['echo', waypoint]])]) {
        const cfg = renderHaproxyConfig(nodeProxySpec(n1, [n1, n2], [echo], w, 2, tls));
        assert.doesNotMatch(cfg, /mode http|proto h2|alpn/);
      }
    });

    it('tcp: every proxy hop is L4 (an L7 proxy cannot parse a raw byte stream)', () => {
      for (const spec of [sidecarProxySpec(client, [echo], 2, tls, 'tcp'), waypointSpec(echo, [n1, n2], 2, tls, 'tcp'), dualWaypointSpec(echo, 2, 'tcp')]) {
        const cfg = renderHaproxyConfig(spec);
        assert.doesNotMatch(cfg, /mode http|http-reuse|proto h2/);
        assert.match(cfg, /mode tcp/);
      }
    });

    it('timeouts are idle timeouts of an hour: a long-lived HTTP/2 connection is never cut mid-run', () => {
      const cfg = renderHaproxyConfig(sidecarProxySpec(client, [echo], 2, undefined, 'grpc'));
      for (const t of ['client', 'server', 'tunnel', 'http-keep-alive']) assert.match(cfg, new RegExp(`timeout ${t} 1h\n`));
    });

    it('refuses HTTP/2 asked of an L4 proxy', () => {
      assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [{ name: 'f', port: 1, mode: 'tcp', http: 'h2', routes: [], defaultBackend: 'b' }], backends: [{ name: 'b', mode: 'tcp', servers: [] }] }), /frontend f: HTTP\/2 needs mode http/);
      assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [], backends: [{ name: 'b', mode: 'tcp', servers: [{ name: 's', address: '10.0.0.1', port: 1, http: 'h2' }] }] }), /backend b: HTTP\/2 to server s needs mode http/);
    });

    it('each protocol has its hop, echo flag, target URL and load flags', () => {
      assert.deepEqual(workloadProtocols.map((p) => l7Hop(p)), [{ mode: 'http' }, { mode: 'http', http: 'h2' }, { mode: 'http', http: 'h2' }, { mode: 'tcp' }]);
      assert.deepEqual(workloadProtocols.map((p) => echoProtocolArgs(p)), [[], ['--protocol', 'http2'], ['--protocol', 'grpc'], ['--protocol', 'tcp']]);
      assert.deepEqual(workloadProtocols.map((p) => protocolTargetUrl(p, '198.19.0.10:80')), ['http://198.19.0.10:80/', 'h2c://198.19.0.10:80/', 'grpc://198.19.0.10:80', 'tcp://198.19.0.10:80']);
      assert.deepEqual(protocolLoadArgs({ protocol: 'grpc', streams: 8 }), ['--streams', '8']);
      assert.deepEqual(protocolLoadArgs({ protocol: 'http2' }), ['--streams', '1']);
      assert.deepEqual(protocolLoadArgs({ protocol: 'http', streams: 1 }), []);
      assert.deepEqual(protocolLoadArgs({ protocol: 'tcp' }), []);
    });

    it('the path check frames a gRPC ping as the wire format says (5-byte prefix, PingMessage.seq as field 1)', () => {
      assert.deepEqual([...pingRequestFrame(0)], [0, 0, 0, 0, 0]);
      assert.deepEqual([...pingRequestFrame(1)], [0, 0, 0, 0, 2, 0x08, 0x01]);
      assert.deepEqual([...pingRequestFrame(300)], [0, 0, 0, 0, 3, 0x08, 0xac, 0x02]);
    });
  });

  it('refuses configs HAProxy would misread', () => {
    assert.throws(() => renderHaproxyConfig({ workers: 0, frontends: [], backends: [] }), RangeError);
    assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [{ name: 'f', port: 1, mode: 'tcp', routes: [], defaultBackend: 'missing' }], backends: [] }), RangeError);
    assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [], backends: [{ name: 'b; x', mode: 'tcp', servers: [] }] }), RangeError);
  });
});
