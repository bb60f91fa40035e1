import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseProfile } from '../../harness/profile/profileLoad';
import { loadRun, ResultsStore } from '../../harness/results/resultsStore';
import type { MeasurementKind } from '../../harness/results/resultTypes';
import { openPlatform, openProbes } from '../../harness/runner/platformFactory';
import type { DeployedDataPlane, LoadInvocation, PlatformSession } from '../../harness/runner/platformSession';
import { Runner } from '../../harness/runner/runner';
import { describeOnNetns, findLeftovers } from './netnsLeftovers';

/*
 * Clean and instrumented repetitions on the real netns platform, checked from the kernel's side while the
 * load client measures: in a clean repetition no meshbench tracing or perf_event program is attached and
 * kernel.bpf_stats_enabled is 0; in the instrumented one they are (so the check can fail).
 */

interface BpftoolProg { id: number; name?: string; type?: string }
interface BpftoolAttach { prog_id?: number }

const tracingTypes = new Set(['tracing', 'raw_tracepoint', 'tracepoint', 'perf_event', 'kprobe', 'kprobe_multi', 'uprobe_multi']);

/** bpftool's JSON answer, or the error line (kernel lockdown refuses some link queries). */
function bpftoolJson<T>(args: string[]): T[] | string {
  try {
    const out = execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
    return (out.trim() === '' ? [] : JSON.parse(out)) as T[];
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err).trim().split('\n')[0] ?? 'failed';
  }
}

/** BPF links this process holds, from /proc/self/fdinfo (link_type, prog_id): readable whatever lockdown allows. */
function ownLinks(): Array<{ linkType: string; progId: number }> {
  const out: Array<{ linkType: string; progId: number }> = [];
  for (const fd of fs.readdirSync('/proc/self/fdinfo')) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    const type = /^link_type:\s*(\S+)/m.exec(text);
    const prog = /^prog_id:\s*(\d+)/m.exec(text);
    if (type !== null && prog !== null) out.push({ linkType: type[1] ?? '', progId: Number(prog[1]) });
  }
  return out;
}

/**
 * meshbench's tracing and perf_event programs attached now, and bpf_stats. The links the harness holds
 * (every probe and the stack sampler are attached by this process) from fdinfo, plus what bpftool lists
 * machine-wide where the kernel lets it.
 */
function snapshot(): { attached: Array<{ name: string; type: string }>; bpfStats: string; seen: string } {
  const attached: Array<{ name: string; type: string }> = [];
  const links = ownLinks();
  for (const l of links) if (tracingTypes.has(l.linkType)) attached.push({ name: `prog ${l.progId}`, type: l.linkType });
  const all = bpftoolJson<BpftoolProg>(['prog', 'show']);
  const progs = new Map((typeof all === 'string' ? [] : all).filter((p) => (p.name ?? '').startsWith('mb_') && tracingTypes.has(p.type ?? '')).map((p) => [p.id, p]));
  const machine: BpftoolAttach[] = [];
  for (const what of [['link', 'show'], ['perf', 'show']]) {
    const r = bpftoolJson<BpftoolAttach>(what);
    if (typeof r !== 'string') machine.push(...r);
  }
  for (const a of machine) {
    const p = a.prog_id === undefined ? undefined : progs.get(a.prog_id);
    if (p !== undefined && !attached.some((x) => x.name === `prog ${p.id}`)) attached.push({ name: p.name ?? '', type: p.type ?? '' });
  }
  const seen = `${typeof all === 'string' ? all : `${all.length} programs (${progs.size} meshbench tracing)`}, ${links.length} own links (${links.map((l) => l.linkType).join(',')}), ${machine.length} machine-wide attachments`;
  return { attached, bpfStats: fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim(), seen };
}

/** The platform with a hook in each load: `onWindow` runs 400 ms into the measured window. */
function watched(inner: PlatformSession, onWindow: () => void): PlatformSession {
  const originals = new Map<DeployedDataPlane, DeployedDataPlane>();
  return {
    name: inner.name,
    async deploy(dp, placement, profile) {
      const d = await inner.deploy(dp, placement, profile);
      const runLoad = (inv: LoadInvocation): ReturnType<DeployedDataPlane['runLoad']> => d.runLoad({
        ...inv,
        onMeasuring: (cpu) => {
          inv.onMeasuring(cpu);
          setTimeout(onWindow, 400);
        },
      });
      const proxy = new Proxy(d, { get: (t, k) => (k === 'runLoad' ? runLoad : Reflect.get(t, k, t) as unknown) });
      originals.set(proxy, d);
      return proxy;
    },
    remove: (d) => inner.remove(originals.get(d) ?? d),
    versions: () => inner.versions(),
    close: () => inner.close(),
  };
}

function killComponent(d: DeployedDataPlane, name: string): number {
  const c = d.components.find((x) => x.name === name);
  assert.ok(c?.v2Path !== null && c?.v2Path !== undefined, `${name} has a cgroup`);
  const pids = fs.readFileSync(path.join(c.v2Path, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return pids.length;
}

describeOnNetns('clean and instrumented repetitions (root, netns)', { timeoutMs: 120_000, tmpPrefix: 'clean' }, (ctx) => {
  it('a clean repetition measures with no meshbench tracing or perf_event program attached and bpf_stats 0; the instrumented one carries them', async () => {
    const text = 'name: clean\ndataplanes: [baseline, kernel]\nplacement: [cross-node]\nload: {qps: [400], connections: [2]}\nduration: 1500ms\nwarmup: 300ms\nprobes: {sampleHz: 99}\n';
    const profile = parseProfile(text, 'clean.yaml');
    assert.equal(profile.probes.mode, 'separate', 'the default');
    const platform = await openPlatform(profile, 'run-clean');
    const { provider } = await openProbes(profile);
    assert.ok(provider !== undefined && provider.unavailableReason() === null, 'the probes can run here');
    let current: { dataplane: string; measurement: MeasurementKind } | undefined;
    const seen: Array<{ dataplane: string; measurement: MeasurementKind } & ReturnType<typeof snapshot>> = [];
    const store = ResultsStore.create(path.join(ctx.tmp, 'out'));
    try {
      const events = {
        stepStarted: (s: { dataplane: string; measurement: MeasurementKind }) => { current = { dataplane: s.dataplane, measurement: s.measurement }; },
        stepProgress: () => undefined, stepFinished: () => undefined, note: () => undefined,
      };
      const outcome = await new Runner({ profile, file: 'clean.yaml', hash: 'h', text }, watched(platform, () => { if (current !== undefined) seen.push({ ...current, ...snapshot() }); }), provider, store, events, 'run-clean').run(new AbortController().signal);
      assert.equal(outcome.run.status, 'complete', outcome.run.statusReason ?? '');
    } finally {
      await provider?.close();
      await platform.close();
    }
    const loaded = loadRun(store.dir);
    const ran = [...new Set(loaded.steps.map((s) => s.dataplane))];
    assert.ok(ran.includes('baseline'));
    assert.deepEqual(loaded.steps.map((s) => `${s.dataplane}-${s.measurement ?? ''}`), ran.flatMap((dp) => [`${dp}-clean`, `${dp}-instrumented`]));
    assert.equal(seen.length, loaded.steps.length, 'one look from the kernel side per step, inside its window');
    for (const s of seen) {
      if (s.measurement === 'clean') {
        assert.deepEqual(s.attached, [], `${s.dataplane} clean: attached ${JSON.stringify(s.attached)}; ${s.seen}`);
        assert.equal(s.bpfStats, '0', `${s.dataplane} clean: bpf_stats`);
      } else {
        assert.ok(s.attached.some((p) => p.type !== 'perf_event'), `${s.dataplane} instrumented: tracing probes attached: ${JSON.stringify(s.attached)}; ${s.seen}`);
        assert.ok(s.attached.some((p) => p.type === 'perf_event'), `${s.dataplane} instrumented: the stack sampler attached; ${JSON.stringify(s.attached)}; ${s.seen}`);
        // bpf_stats is on in instrumented steps of a run that measures an eBPF data plane
        if (ran.includes('kernel')) assert.equal(s.bpfStats, '1', `${s.dataplane} instrumented: bpf_stats`);
      }
    }
    for (const s of loaded.steps) {
      const clean = s.measurement === 'clean';
      assert.equal(s.instrumentation?.probesAttached, !clean, s.id);
      assert.equal(s.instrumentation?.bpfStatsEnabled, clean ? false : ran.includes('kernel'), s.id);
      assert.equal(Object.keys(s.probes.foldedStacks).length === 0, clean, `${s.id}: stacks only when instrumented`);
      assert.equal(s.probes.available, !clean, s.id);
      if (s.dataplane === 'kernel') assert.equal(s.ebpf === null, clean, `${s.id}: the eBPF program time is measured in the instrumented repetition`);
      // measured in this repetition, inside this step
      assert.equal(s.connectionsOnPath, 1, s.id);
      assert.ok((s.connectionsOnPathMeasuredAt ?? '') >= s.startedAt && (s.connectionsOnPathMeasuredAt ?? '') <= s.endedAt, s.id);
      assert.match(s.window?.source ?? '', /load-client events/);
      assert.ok(s.noise !== null && s.noise !== undefined && s.noise.windowUs > 1_000_000, `${s.id}: noise ${JSON.stringify(s.noise)}`);
      assert.ok((s.loadGenerator?.cpuUserUs ?? 0) > 0, `${s.id}: the load generator's own user time`);
      for (const name of ['client', 'server']) {
        const r = s.resources[name];
        assert.match(r?.memoryPeakSource ?? '', /memory\.(max_usage_in_bytes|peak)/, `${s.id} ${name}: the kernel's peak`);
        assert.ok((r?.memoryPeakBytes ?? 0) >= (r?.memoryRssBytesPeak ?? Infinity), `${s.id} ${name}: charged peak ≥ sampled RSS peak`);
      }
    }
    const summary = JSON.parse(fs.readFileSync(path.join(store.dir, 'summary.json'), 'utf8')) as import('../../harness/results/summaryTypes').SummaryRecord;
    for (const dp of ran) {
      const g = summary.groups.find((x) => x.dataplane === dp);
      assert.equal(g?.repetitions, 1, `${dp}: headline figures from the clean repetition only`);
      assert.ok(g?.perturbation !== null && g?.perturbation !== undefined, `${dp}: perturbation`);
      assert.ok((g.perturbation.cpuUsPerRequest.clean ?? 0) > 0 && (g.perturbation.cpuUsPerRequest.instrumented ?? 0) > 0);
    }
  });

  it('connectionsOnPath is counted when asked, on the deployment as it is then, not copied from the first count', async () => {
    const profile = parseProfile('name: path\ndataplanes: [sidecar]\nduration: 1s\n', 'path.yaml');
    const platform = await openPlatform(profile, 'run-path');
    try {
      const d = await platform.deploy('sidecar', 'cross-node', profile);
      assert.equal(await d.connectionsOnPath(), 3);
      assert.equal(await d.connectionsOnPath(), 3, 'a second count, same path');
      assert.ok(killComponent(d, 'server-proxy') > 0);
      const after = await d.connectionsOnPath().catch(() => null);
      assert.notEqual(after, 3, 'with the server-side proxy gone the path is broken: no longer three connections');
      await platform.remove(d);
    } finally {
      await platform.close();
    }
    assert.deepEqual(findLeftovers().processes, []);
  });
});
