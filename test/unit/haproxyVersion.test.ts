import assert from 'node:assert/strict';
import { haproxyVersionFrom } from '../../harness/dataplanes/haproxyVersion';
import { haproxyVersion } from '../../harness/dataplanes/proxyProcess';
import { toolVersions } from '../../harness/runner/environment';

describe('HAProxy version in run.json', () => {
  it('is the version token of `haproxy -v`, without the release date and URL', () => {
    assert.equal(haproxyVersionFrom('HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch'), '2.6.12-1+deb12u4');
    assert.equal(haproxyVersionFrom('HA-Proxy version 1.8.19 2019/02/11'), '1.8.19');
    assert.equal(haproxyVersionFrom('command not found'), undefined);
  });

  it('reads the same from the tool versions every run records as from the data planes that start HAProxy', async function () {
    const tools = toolVersions();
    if (tools.haproxy === undefined) this.skip();
    assert.equal(tools.haproxy, await haproxyVersion());
    assert.match(tools.haproxy ?? '', /^\d+\.\d+\S*$/);
  });
});
