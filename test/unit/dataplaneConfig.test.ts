import assert from 'node:assert/strict';
import { nodePlan, podPlan } from '../../harness/platforms/netns/addressPlan';
import type { ServicePlan } from '../../harness/platforms/netns/cluster';
import { renderHaproxyConfig } from '../../harness/dataplanes/haproxyConfig';
import { sidecarIptables, sidecarProxySpec } from '../../harness/dataplanes/sidecar';
import { ambientRedirectRules, nodeProxySpec, waypointSpec } from '../../harness/dataplanes/ambient';
import { expectedConnections, parseDataPlaneName } from '../../harness/dataplanes/dataPlaneFactory';
import { BadInputError } from '../../harness/errors';

const n1 = nodePlan('t1', 1);
const n2 = nodePlan('t1', 2);
const client = podPlan('t1', 'client', n1, 0);
const server = podPlan('t1', 'server', n2, 0);
const waypoint = podPlan('t1', 'waypoint', n2, 1);
const echo: ServicePlan = { name: 'echo', index: 0, vip: '198.19.0.10', port: 80, targetPort: 8080, endpoints: [server] };
const tls = { crt: '/run/meshbench/run-t1/certs/x.pem', ca: '/run/meshbench/run-t1/certs/ca.pem' };

describe('data plane configuration', () => {
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

  it('refuses configs HAProxy would misread', () => {
    assert.throws(() => renderHaproxyConfig({ workers: 0, frontends: [], backends: [] }), RangeError);
    assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [{ name: 'f', port: 1, mode: 'tcp', routes: [], defaultBackend: 'missing' }], backends: [] }), RangeError);
    assert.throws(() => renderHaproxyConfig({ workers: 1, frontends: [], backends: [{ name: 'b; x', mode: 'tcp', servers: [] }] }), RangeError);
  });
});
