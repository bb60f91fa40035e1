import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeReport } from '../../reports/writeReport';
import { chromiumMissing, withReportPage } from '../helpers/browserCheck';
import { runCli } from '../helpers/cli';
import { writeSyntheticRun } from '../helpers/syntheticRun';

describe('meshbench claims', function () {
  this.timeout(90_000);
  let tmp: string;
  let dir: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-claims-'));
    dir = path.join(tmp, 'run');
    // seed-claims' shape, shortened: six data planes at c4 and c64, 2 repetitions, stacks sampled.
    writeSyntheticRun(dir, { runId: 'claims-cli', profileName: 'seed-claims', connections: [4, 64], repetitions: 2, samplesPerStep: 100 });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints every claim with a value (or null) and a verdict, and exits 0', async () => {
    const r = await runCli(['claims', dir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^meshbench claims: claims-cli \(profile seed-claims, complete\)$/);
    const rows = lines.filter((l) => /\s(confirmed|refuted|inconclusive)$/.test(l));
    assert.equal(rows.length, 17, r.stdout);
    assert.equal(lines.filter((l) => l.startsWith('    why: ')).length, 17);
    for (const claim of ['sidecar is 25–35 %', 'ambient is ~15 %', 'kernel-native latency', 'P99 is 25–30 % lower than ambient', 'waypoint: 4 TCP connections', 'dual: 2 TCP connections', 'orchestration', 'context switches 25 %', 'TCP/IP stack 40 %', 'iptables 10 %', 'downstream hijack 15 %', 'governance 10 %']) {
      assert.ok(r.stdout.includes(claim), claim);
    }
    const json = await runCli(['claims', dir, '--json']);
    const parsed = JSON.parse(json.stdout) as { claims: Array<{ id: string; value: number | null; verdict: string }> };
    assert.equal(parsed.claims.length, 17);
    assert.deepEqual(parsed.claims.filter((c) => c.value === null).map((c) => c.id), ['kmesh-split-downstream-hijack']);
  });

  it('a folder that is not a results folder: one line, exit code 2', async () => {
    for (const bad of [path.join(tmp, 'missing'), tmp]) {
      const r = await runCli(['claims', bad]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^meshbench: /);
    }
  });

  it('the HTML report shows the same table, one row per claim, in Chromium', async function () {
    if (chromiumMissing() !== null) this.skip();
    const r = await writeReport(dir);
    const md = fs.readFileSync(r.markdown, 'utf8');
    assert.match(md, /^## The talk's claims, answered$/m);
    const cli = await runCli(['claims', dir, '--json']);
    const claims = (JSON.parse(cli.stdout) as { claims: Array<{ claim: string; verdict: string }> }).claims;
    await withReportPage(r.html, async (page) => {
      const table = page.locator('h2:has-text("The talk\'s claims, answered") + p + table');
      const rows = table.locator('tbody tr');
      assert.equal(await rows.count(), claims.length);
      for (const [i, c] of claims.entries()) {
        const cells = rows.nth(i).locator('td');
        assert.equal(await cells.nth(0).textContent(), c.claim);
        assert.equal(await cells.nth(5).textContent(), c.verdict);
      }
    });
  });
});
