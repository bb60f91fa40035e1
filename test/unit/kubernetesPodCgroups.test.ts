import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerCgroups, containerIdOf, findPodCgroup, isContainerDir, isPodDir } from '../../harness/platforms/kubernetes/podCgroups';
import { ProbeAgent, probeTokenHeader, resolveTargets } from '../../harness/platforms/kubernetes/probeAgent';
import { parseProfile } from '../../harness/profile/profileLoad';

/** A node's cgroup tree for the two kubelet cgroup drivers, in a temporary folder. */
function tree(root: string, dirs: string[]): void {
  for (const d of dirs) {
    fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, d, 'cgroup.procs'), '');
  }
}

describe('pod cgroups on a node', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-cg-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const uid = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
  const id = 'a'.repeat(64);

  it('names: systemd and cgroupfs pod folders, containerd, CRI-O and plain container folders', () => {
    assert.ok(isPodDir(`kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`, uid));
    assert.ok(isPodDir(`kubepods-pod${uid.replace(/-/g, '_')}.slice`, uid), 'Guaranteed');
    assert.ok(isPodDir(`pod${uid}`, uid));
    assert.ok(!isPodDir(`pod${uid}x`, uid));
    assert.ok(isContainerDir(`cri-containerd-${id}.scope`, id));
    assert.ok(isContainerDir(`crio-${id}.scope`, id));
    assert.ok(isContainerDir(id, id));
    assert.ok(!isContainerDir(`cri-containerd-${'b'.repeat(64)}.scope`, id));
    assert.equal(containerIdOf(`containerd://${id}`), id);
    assert.equal(containerIdOf(id), id);
  });

  it('systemd driver (Burstable and Guaranteed pods)', () => {
    const burstable = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice`;
    tree(root, [`${burstable}/cri-containerd-${id}.scope`, 'kubepods.slice/kubepods-pod0000.slice', 'system.slice/containerd.service']);
    assert.equal(findPodCgroup(root, uid), path.join(root, burstable));
    assert.deepEqual(containerCgroups(path.join(root, burstable), [{ name: 'echo', containerId: id }, { name: 'gone', containerId: 'c'.repeat(64) }]),
      [{ container: 'echo', v2Path: path.join(root, burstable, `cri-containerd-${id}.scope`) }]);
    const guaranteedUid = '00000000-0000-0000-0000-000000000001';
    tree(root, [`kubepods.slice/kubepods-pod${guaranteedUid.replace(/-/g, '_')}.slice`]);
    assert.equal(findPodCgroup(root, guaranteedUid), path.join(root, `kubepods.slice/kubepods-pod${guaranteedUid.replace(/-/g, '_')}.slice`));
  });

  it('cgroupfs driver', () => {
    tree(root, [`kubepods/besteffort/pod${uid}/${id}`]);
    assert.equal(findPodCgroup(root, uid), path.join(root, `kubepods/besteffort/pod${uid}`));
    assert.equal(findPodCgroup(root, '99999999-0000-0000-0000-000000000000'), null);
    assert.equal(findPodCgroup(path.join(root, 'nowhere'), uid), null);
  });

  it('the agent turns targets into components with cgroup paths and names the ones it cannot find', () => {
    const pod = `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice`;
    tree(root, [`${pod}/cri-containerd-${id}.scope`]);
    const r = resolveTargets(root, 'node-a', [
      { name: 'server', role: 'server', podUid: uid, containerName: 'echo', containerId: `containerd://${id}` },
      { name: 'node-a-ztunnel', role: 'dataplane', podUid: uid, containerName: null, containerId: null },
      { name: 'client', role: 'client', podUid: '99999999-0000-0000-0000-000000000000', containerName: 'load', containerId: 'x' },
    ]);
    assert.deepEqual(r.components.map((c) => [c.name, path.relative(root, c.v2Path ?? ''), c.node]), [
      ['server', `${pod}/cri-containerd-${id}.scope`, 'node-a'],
      ['node-a-ztunnel', pod, 'node-a'],
    ]);
    assert.deepEqual(r.missing, ['client']);
  });

  it('the agent answers only requests carrying the run\'s token', async () => {
    const agent = new ProbeAgent({ host: '127.0.0.1', port: 0, node: 'n', cgroupRoot: root, token: 'secret-token-0123456789', openProvider: async () => undefined });
    const port = await agent.listen();
    const post = async (path: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ profile: parseProfile('name: p\ndataplanes: [baseline]\nduration: 1s\n', 'p.yaml'), targets: [] }) });
      return { status: r.status, body: await r.json() as unknown };
    };
    try {
      assert.equal((await post('/v1/open', {})).status, 403);
      assert.equal((await post('/v1/open', { [probeTokenHeader]: 'wrong' })).status, 403);
      const ok = await post('/v1/open', { [probeTokenHeader]: 'secret-token-0123456789' });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, { node: 'n', available: false, reason: 'no probe provider could be opened on node n' });
      assert.equal((await post('/v1/start', { [probeTokenHeader]: 'secret-token-0123456789' })).status, 503);
      assert.equal((await post('/v1/stop', { [probeTokenHeader]: 'secret-token-0123456789' })).status, 409);
    } finally {
      await agent.close();
    }
  });
});
