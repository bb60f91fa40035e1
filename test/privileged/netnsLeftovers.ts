import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCgroupLayout, meshbenchCgroupName } from '../../harness/cgroupTree';
import { bpfPinRoot, cleanupEverything } from '../../harness/platforms/netns/cleanup';
import { findBpfLeftovers } from './bpfLeftovers';

/** Everything of meshbench's netns platform still on the machine; empty lists mean clean. */
export interface Leftovers {
  namespaces: string[];
  cgroupDirs: string[];
  rootIptables: string[];
  bpfLinks: string[];
  /** meshbench's BPF programs (mb_*) still loaded: attached, linked, pinned or held by a process. */
  bpfPrograms: string[];
  /** Pins under /sys/fs/bpf/meshbench. */
  bpfPins: string[];
  processes: string[];
  stateFiles: string[];
}

export function findLeftovers(): Leftovers {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };
  const namespaces = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith('mb-'));
  const layout = detectCgroupLayout();
  const cgroupDirs = [layout.v2Mount, ...Object.values(layout.v1Mounts)].map((m) => path.join(m, meshbenchCgroupName)).filter((d) => fs.existsSync(d));
  const rootIptables = sh('iptables-save', []).split('\n').filter((l) => /MB-|198\.1[89]\./.test(l));
  // Every meshbench program is named mb_*; links are found through their programs' ids.
  const { programs: bpfPrograms, links: bpfLinks } = findBpfLeftovers();
  const bpfPins = fs.existsSync(bpfPinRoot) ? fs.readdirSync(bpfPinRoot).map((e) => path.join(bpfPinRoot, e)) : [];
  const processes: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/\/run\/meshbench\/run-|--net=\/run\/netns\/mb-|holdClient\.js|holdCluster\.js|echo --host 198\.1[89]\.|load (http|h2c|grpc|tcp):\/\/198\.1[89]\./.test(cmd)) processes.push(`${pid} ${cmd.trim()}`);
    } catch {
      // gone
    }
  }
  const stateFiles = fs.existsSync('/run/meshbench') ? fs.readdirSync('/run/meshbench') : [];
  return { namespaces, cgroupDirs, rootIptables, bpfLinks, bpfPrograms, bpfPins, processes, stateFiles };
}

function isClean(l: Leftovers): boolean {
  return Object.values(l).every((v: string[]) => v.length === 0);
}

/**
 * findLeftovers once the kernel has settled: programs attached to a removed cgroup are released by a kernel
 * work item a few milliseconds later, so a check right after cleanup would race it.
 */
export async function settledLeftovers(done: (l: Leftovers) => boolean = isClean, timeoutMs = 3000): Promise<Leftovers> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = findLeftovers();
    if (done(l) || Date.now() > deadline) return l;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Programs attached directly to cgroups (`bpftool cgroup tree`), anywhere on the machine's cgroup v2 tree. */
export function cgroupAttachments(): Array<{ cgroup: string; program: string; attachType: string }> {
  let json = '[]';
  try {
    json = execFileSync('bpftool', ['-j', 'cgroup', 'tree'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // no bpftool: nothing to list
  }
  const rows = JSON.parse(json === '' ? '[]' : json) as Array<{ cgroup: string; programs?: Array<{ name?: string; attach_type?: string }> }>;
  return rows.flatMap((r) => (r.programs ?? []).map((p) => ({ cgroup: r.cgroup, program: p.name ?? '', attachType: p.attach_type ?? '' })));
}

export function isRoot(): boolean {
  return process.getuid?.() === 0 && process.platform === 'linux';
}

/** What a describeOnNetns body reads in its tests: the current test's own temporary folder. */
export interface NetnsTestContext {
  /** A fresh folder under the system's temp dir for each test, removed after it. */
  readonly tmp: string;
}

/**
 * A mocha `describe` for tests that build the netns platform: skipped unless root on Linux; each test gets a
 * fresh temporary folder (`ctx.tmp`, named `meshbench-<tmpPrefix>-…`), and after each one the folder is removed,
 * meshbench's state is cleaned up (cleanupEverything) and the test fails unless nothing of meshbench remains
 * once the kernel has settled (settledLeftovers). Suites using it run under the machine lock.
 */
export function describeOnNetns(title: string, options: { readonly timeoutMs: number; readonly tmpPrefix: string }, body: (ctx: NetnsTestContext) => void): void {
  describe(title, function () {
    this.timeout(options.timeoutMs);
    const ctx = { tmp: '' };
    before(function () {
      if (!isRoot()) this.skip();
    });
    beforeEach(() => { ctx.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `meshbench-${options.tmpPrefix}-`)); });
    afterEach(async () => {
      fs.rmSync(ctx.tmp, { recursive: true, force: true });
      if (!isRoot()) return;
      await cleanupEverything();
      const left = await settledLeftovers();
      assert.deepEqual(Object.fromEntries(Object.entries(left).filter(([, v]) => v.length > 0)), {}, 'nothing of meshbench remains');
    });
    body(ctx);
  });
}
