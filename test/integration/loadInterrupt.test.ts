import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EchoServer } from '../../workloads/echoServer';
import { cliPath } from '../helpers/cli';

/** Runs a node child, sends it SIGINT 1 + `repeats` times `firstAfterMs` after the spawn, resolves its exit. */
function interrupted(args: string[], firstAfterMs: number, repeats: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    // Repeats go out in the same tick, microseconds apart, as coreutils timeout sends them (one to the command,
    // one to its group): spaced further, one can land in the exit's teardown, where Node no longer handles it.
    setTimeout(() => { for (let i = 0; i <= repeats; i += 1) child.kill('SIGINT'); }, firstAfterMs);
    child.on('close', (code, sig) => resolve({ code, stderr: sig === null ? stderr : `${stderr}[killed by ${sig}]` }));
  });
}

describe('meshbench load interrupted', function () {
  this.timeout(30_000);
  let tmp: string;
  let server: EchoServer;
  let port: number;
  before(async () => {
    server = new EchoServer({ host: '127.0.0.1', port: 0, protocol: 'http' });
    port = (await server.listen()).port;
  });
  after(() => server.close());
  beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-loadint-')); });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('one interrupt delivered twice during the warm-up (coreutils timeout) still writes the result and the summary, exit 130', async () => {
    const json = path.join(tmp, 'f.json');
    // 1.5 s into a 5 s warm-up, twice (as `timeout -s INT` does).
    const r = await interrupted([cliPath, 'load', `http://127.0.0.1:${port}/`, '--warmup', '5s', '--json', json], 1500, 1);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /none \(the run was interrupted before the measured window began\)/);
    const result = JSON.parse(fs.readFileSync(json, 'utf8')) as { latency: { count: number; percentilesUs: Record<string, number | null> | null; unavailableReason?: string } };
    assert.equal(result.latency.count, 0);
    assert.equal(result.latency.unavailableReason, 'the run was interrupted before the measured window began');
  });

  it('an interrupt before any command has a handler says in one line that nothing was written, exit 130', async () => {
    const early = path.join(__dirname, '..', '..', 'harness', 'earlyInterrupt.js');
    const r = await interrupted(['-e', `require(${JSON.stringify(early)}); setTimeout(() => undefined, 10000)`], 500, 0);
    assert.equal(r.code, 130);
    assert.equal(r.stderr, 'meshbench: interrupted before anything was measured; nothing written\n');
    // Once a command without a handler of its own has started (report, claims…), it may have written: no such claim.
    const started = await interrupted(['-e', `require(${JSON.stringify(early)}).commandStarted(); setTimeout(() => undefined, 10000)`], 500, 0);
    assert.equal(started.code, 130);
    assert.equal(started.stderr, 'meshbench: interrupted\n');
  });
});
