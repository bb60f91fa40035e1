import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CgroupTree } from '../../harness/cgroupTree';
import { removeEmptyMeshbenchRoots } from '../../harness/commands/probeCommand';
import { ExitCode, NotRootError, describeError } from '../../harness/errors';
import { ProbeSession } from '../../harness/probes/probeSession';
import { ProbeSet } from '../../harness/probes/probeSet';
import { cliPath, type CliRun } from '../helpers/cli';
import { findBpfLeftovers, settledBpfLeftovers } from './bpfLeftovers';
import { isRoot } from './netnsLeftovers';

/*
 * `meshbench probe` end to end (counts, exit code passed through, cgroup removed), no leaks after kill -9 of a
 * process holding a session, and bad input as one clear line with a non-zero exit.
 */
const workload = path.join(__dirname, 'fixtures', 'probeWorkload.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, process.execPath, cliPath, ...args];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`meshbench ${args.join(' ')} timed out`)); }, 30_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function oneLine(r: CliRun): void {
  assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got: ${r.stderr}`);
  assert.match(r.stderr, /^meshbench: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

describe('meshbench probe and probe life cycle (root)', function () {
  this.timeout(30_000);
  let server: net.Server;
  let port = 0;
  const tree = isRoot() ? new CgroupTree() : undefined;
  const run = `probe-life-${process.pid}`;

  before(async function () {
    if (!isRoot()) this.skip();
    server = net.createServer((s) => { s.resume(); s.on('end', () => s.end()); s.on('error', () => undefined); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    if (!isRoot()) return;
    server.close();
    tree?.remove(run);
    removeEmptyMeshbenchRoots();
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('counts a command\'s bytes and connections, passes its exit code through, removes its cgroup', async () => {
    const n = 250_000;
    const r = await cli(['probe', '--json', '--', process.execPath, workload, 'send', '127.0.0.1', String(port), String(n)], { PROBE_WORKLOAD_NOW: '1' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { exitCode: number; cgroupId: string; counters: { bytesSent: number; connectionsOpened: number; syscalls: { total: number } } };
    assert.ok(out.counters.bytesSent >= n && out.counters.bytesSent <= n + 1500, `bytesSent ${out.counters.bytesSent}`);
    assert.equal(out.counters.connectionsOpened, 1);
    assert.ok(out.counters.syscalls.total > 100);
    const failing = await cli(['probe', '--', 'sh', '-c', 'exit 7']);
    assert.equal(failing.code, 7);
    assert.match(failing.stderr, /meshbench probe: sh -c exit 7 \(exit 7,/);
    assert.match(failing.stderr, /context switches voluntary \/ involuntary/);
    const missing = await cli(['probe', '--', '/nonexistent/command']);
    assert.equal(missing.code, 127);
    const left = fs.existsSync((tree as CgroupTree).root) ? fs.readdirSync((tree as CgroupTree).root).filter((d) => /^probe-\d+$/.test(d)) : [];
    assert.deepEqual(left, [], 'meshbench probe left a cgroup behind');
  });

  it('keeps its JSON parseable whatever the command prints (issue 13 found #7)', async () => {
    const noisy = ['sh', '-c', 'echo "{ not json"; echo "]]"; exit 3'];
    const onStdout = await cli(['probe', '--json', '--', ...noisy]);
    assert.equal(onStdout.code, 3, onStdout.stderr);
    const parsed = JSON.parse(onStdout.stdout) as { exitCode: number; command: string[] };
    assert.equal(parsed.exitCode, 3);
    assert.deepEqual(parsed.command, noisy);
    assert.match(onStdout.stderr, /\{ not json\n\]\]/, 'the command\'s stdout went to stderr');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshbench-probe-json-'));
    try {
      const file = path.join(dir, 'probe.json');
      const toFile = await cli(['probe', '--json', file, '--', ...noisy]);
      assert.equal(toFile.code, 3, toFile.stderr);
      assert.equal(toFile.stdout, '{ not json\n]]\n', 'the command\'s stdout stays on stdout');
      assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { exitCode: number }).exitCode, 3);
      const badDir = await cli(['probe', '--json', path.join(dir, 'no', 'such', 'probe.json'), '--', 'true']);
      assert.equal(badDir.code, 2);
      oneLine(badDir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no BPF program, link or perf fd after kill -9 of a process holding a session', async () => {
    const cg = (tree as CgroupTree).create(`${run}/held`);
    const holder = spawn(process.execPath, [workload, 'hold', cg.v2Path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
      holder.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
    });
    const held = findBpfLeftovers();
    assert.ok(held.programs.length >= 5 && held.links.length >= 10, `a live session shows up: ${JSON.stringify(held)}`);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    assert.deepEqual(await settledBpfLeftovers(), { programs: [], links: [] });
  });

  it('refuses bad input with one clear line and a non-zero exit', async () => {
    assert.throws(() => ProbeSession.start([{ name: 'x', v2Path: '/sys/fs/cgroup/unified/meshbench/no-such-cgroup' }]),
      (e: unknown) => describeError(e).exitCode === ExitCode.badInput && /unknown cgroup path \/sys\/fs\/cgroup\/unified\/meshbench\/no-such-cgroup/.test(describeError(e).line));
    assert.throws(() => new ProbeSet({ isRoot: () => false }), (e: unknown) => e instanceof NotRootError && e.exitCode === ExitCode.environment && !describeError(e).line.includes('\n'));
    const noCommand = await cli(['probe']);
    assert.equal(noCommand.code, 2);
    oneLine(noCommand);
    const noAddon = await cli(['probe', '--', 'true'], { MESHBENCH_BPF_ADDON: '/nonexistent/meshbench_bpf.node' });
    assert.equal(noAddon.code, 3);
    oneLine(noAddon);
    assert.match(noAddon.stderr, /BPF addon is not built/);
    const notRoot = await cli(['probe', '--', 'true'], {}, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']);
    assert.equal(notRoot.code, 3);
    oneLine(notRoot);
    assert.match(notRoot.stderr, /run as root/);
    const badSample = await cli(['probe', '--sample', 'lots', '--', 'true']);
    assert.equal(badSample.code, 2);
    oneLine(badSample);
  });
});
