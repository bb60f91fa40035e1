import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { formatProfileIssues, loadProfile, parseProfile } from '../../harness/profile/profileLoad';
import { BadInputError } from '../../harness/errors';
import { loadLabel } from '../../reports/stepRows';
import { measurementRounds, planSteps, repetitionPolicy, stepId, withoutInstrumented, type PlannedStep } from '../../harness/runner/stepPlan';
import { StepPlanner, type FinishedStep } from '../../harness/runner/repetitionPlanner';
import { repetitionVerdictText } from '../../harness/results/repetitionVerdict';

const repo = path.join(__dirname, '..', '..', '..');
const badDir = path.join(repo, 'test', 'fixtures', 'profiles', 'bad');

/** What each malformed profile's one line must name: the path inside the file and what was expected. */
const expected: Record<string, RegExp> = {
  'wrong-type.yaml': /: repetitions: expected a whole number of repetitions from 1 to 100 or \{min, max, until\} like .*, received string/,
  'unknown-dataplane.yaml': /: dataplanes\[1\]: .*expected one of "baseline"\|"sidecar".*\(got "istio"\)/,
  'negative-qps.yaml': /: load\.qps\[0\]: .*>=0 \(got -100\)/,
  'empty-dataplanes.yaml': /: dataplanes: .*>=1 items/,
  'empty-qps.yaml': /: load\.qps: .*>=1 items/,
  'duplicate-key.yaml': /: duration: line 4, column \d+: duplicate key \(expected each key once\)/,
  'duplicate-nested-key.yaml': /: proxy\.workers: line 6, column \d+: duplicate key/,
  'zero-connections.yaml': /: load\.connections\[0\]: .*expected number to be >0 \(got 0\)/,
  'empty-payloads.yaml': /: workload\.payloadBytes: .*>=1 items/,
  'qps-not-a-list.yaml': /: load\.qps: expected array, received number/,
  'repeated-dataplane.yaml': /: dataplanes: expected no repeated entries/,
  'unknown-placement.yaml': /: placement\[0\]: .*expected one of "same-node"\|"cross-node" \(got "same-rack"\)/,
  'unknown-probe.yaml': /: probes\.include\[1\]: .*\(got "kprobes"\)/,
  'bad-cpu-list.yaml': /: cpuPinning\.client: expected a CPU list/,
  'zero-repetitions.yaml': /: repetitions: expected a whole number of repetitions from 1 to 100 \(got 0\)/,
  'wrong-type-nested.yaml': /: proxy\.mtls: expected boolean, received string/,
  'unknown-key.yaml': /: \(top level\): unknown key "repetitons"/,
  'unknown-nested-key.yaml': /: proxy: unknown key "mtsl"/,
  'bad-duration.yaml': /: duration: expected a duration like 10s/,
  'bad-gate.yaml': /: gates\.latency\.p99: expected string/,
  'not-yaml.yaml': /: line \d+, column \d+: (?!.*at line)/,
  'not-a-mapping.yaml': /: \(top level\): expected a mapping/,
  'missing-name.yaml': /: name: expected string, received undefined/,
  'unknown-protocol.yaml': /: workload\.protocol: .*expected one of "http"\|"http2"\|"grpc"\|"tcp" \(got "http3"\)/,
  'zero-streams.yaml': /: load\.streams: .*expected number to be >0 \(got 0\)/,
  'grpc-without-keepalive.yaml': /: workload\.keepAlive: a new connection per request is for http and tcp; grpc keeps its connections \(as h2load and fortio do\) \(got false\)/,
  'instrumented-zero.yaml': /: probes\.instrumentedRepetitions: expected at least 1 with probes\.mode separate; to run with no instrumented repetition, set probes\.enabled: false \(got 0\)$/,
  'instrumented-inline.yaml': /: probes\.instrumentedRepetitions: is for probes\.mode separate; inline instruments every repetition: remove it, or set probes\.mode: separate \(got 3\)$/,
  'streams-without-http2.yaml': /: load\.streams: more than 1 stream per connection needs workload\.protocol http2 or grpc, not http \(got 8\)/,
};

describe('profiles', () => {
  it('every malformed profile in the corpus gets one line with the file, the path and what was expected', () => {
    const files = fs.readdirSync(badDir).sort();
    assert.deepEqual(files, Object.keys(expected).sort(), 'every corpus file has an expectation');
    for (const f of files) {
      const file = path.join(badDir, f);
      assert.throws(() => loadProfile(file), (e: unknown) => {
        assert.ok(e instanceof BadInputError, f);
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(`${file}: `), `${f}: ${e.message}`);
        assert.equal(e.message.split('\n').length, 1, `${f}: one line`);
        assert.match(e.message, expected[f] as RegExp, f);
        return true;
      });
    }
  });

  it('names the other problems of a profile on the same line, and counts those beyond four', () => {
    const text = 'name: x\ndataplanes: [baseline, nope]\nrepetitions: 0\nload: {qps: [abc], connections: [0]}\n';
    assert.throws(() => parseProfile(text, 'p.yaml'), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.equal(e.message.split('\n').length, 1);
      assert.match(e.message, /^p\.yaml: dataplanes\[1\]: .*\(got "nope"\) \[also: .*\]$/);
      for (const other of [/repetitions: [^;]*\(got 0\)/, /load\.qps\[0\]: [^;]*\(got "abc"\)/, /load\.connections\[0\]: [^;]*\(got 0\)/, /duration: required \(got nothing\)/]) {
        assert.match(e.message, other);
      }
      return true;
    });
    const many = 'name: x\ndataplanes: [a, b, c, d, e, f, g]\n';
    assert.throws(() => parseProfile(many, 'p.yaml'), /\(got "a"\) \[also: dataplanes\[1\]: likewise \(got "b"\); (dataplanes\[\d\]: likewise [^;]+; ){3}3 more problems\]$/);
  });

  it('says each problem once, and a long value keeps the keys its message is about', () => {
    const base = 'name: x\ndataplanes: [baseline]\nduration: 2s\n';
    // A refinement failing on a value that already failed its format is the same problem again.
    assert.throws(() => parseProfile(`${base}load: {search: {p99: 5x, errors: 200%}}\n`, 'p.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof BadInputError);
        assert.equal(e.message, 'p.yaml: load.search.p99: expected a duration like 10s, 500ms or 1m (got "5x") [also: load.search.errors: expected a percent of at most 100% (got "200%")]');
        return true;
      });
    // An exact repeat is dropped; two rules a mapping breaks are both said.
    const issue = { code: 'custom' as const, path: ['load', 'search'], message: 'expected from below to', input: undefined };
    const raw = { load: { search: { from: 5000, to: 400 } } };
    assert.equal(formatProfileIssues('p.yaml', [issue, issue], raw), 'p.yaml: load.search: expected from below to (got {"from":5000,"to":400})');
    // A search object longer than the line allows: from and to first, the middle cut, never the keys that matter.
    // A typo in a server default would do no work and say nothing (found by a fresh-user tryout).
    for (const [c, why] of [['brun=200us', /unknown control "brun"/], ['size=abc', /size/], ['size=1024&burn', /needs a value/]] as const) {
      assert.throws(() => parseProfile(`${base}workload: {serverControls: '${c}'}\n`, 'p.yaml'),
        (e: unknown) => e instanceof BadInputError && why.test(e.message) && /serverControls/.test(e.message));
    }
    assert.doesNotThrow(() => parseProfile(`${base}workload: {serverControls: 'size=16384&burn=200us:50'}\n`, 'p.yaml'));
    // resolution 0 % would re-probe one rate near the knee until the budget ran out; above 50 % the near-knee step exceeds the doubling.
    for (const [r, why] of [['0%', /above 0%/], ['60%', /at most 50%/]] as const) {
      assert.throws(() => parseProfile(`${base}load: {search: {p99: 5ms, resolution: ${r}}}\n`, 'p.yaml'),
        (e: unknown) => e instanceof BadInputError && why.test(e.message));
    }
    assert.throws(() => parseProfile(`${base}load: {search: {p99: 5ms, errors: 0.1%, duration: 2s, maxProbes: 12, resolution: 5%, from: 5000, to: 400}}\n`, 'p.yaml'),
      (e: unknown) => {
        assert.ok(e instanceof BadInputError);
        assert.match(e.message, /^p\.yaml: load\.search: expected from below to \(got \{"from":5000,"to":400,[^)]*…[^)]*\}\)$/);
        return true;
      });
  });

  it('every shipped profile validates', () => {
    const dir = path.join(repo, 'profiles');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.includes('quick.yaml'));
    for (const f of files) assert.doesNotThrow(() => loadProfile(path.join(dir, f)), f);
  });

  it('a missing file is bad input too', () => {
    assert.throws(() => loadProfile('/nonexistent/p.yaml'), /no such profile file/);
  });

  it('fills defaults', () => {
    const p = parseProfile('name: t\ndataplanes: [sidecar, baseline]\nduration: 2s\n', 't.yaml');
    assert.equal(p.platform, 'netns');
    assert.deepEqual(p.load.qps, [1000]);
    assert.equal(p.proxy.workers, 2);
    assert.equal(p.repetitions, 1);
  });
});

describe('workload protocols in profiles', () => {
  it('http by default with one stream per connection; http2 and grpc carry their streams into every load point', () => {
    const plain = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\n', 't.yaml');
    assert.equal(plain.workload.protocol, 'http');
    assert.equal(plain.load.streams, 1);
    const grpc = parseProfile('name: t\ndataplanes: [baseline, sidecar]\nduration: 2s\nworkload: {protocol: grpc}\nload: {qps: [100, 0], connections: [1], streams: 8}\n', 't.yaml');
    const steps = planSteps(grpc);
    assert.ok(steps.length > 0);
    for (const s of steps) assert.deepEqual({ protocol: s.loadPoint.protocol, streams: s.loadPoint.streams }, { protocol: 'grpc', streams: 8 });
    assert.equal(parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nworkload: {protocol: http2}\nload: {streams: 100}\n', 't.yaml').load.streams, 100);
  });

  it('repetitions out of range say what is allowed in meshbench\'s words, not the schema library\'s', () => {
    for (const [text, got] of [['0', '0'], ['101', '101'], ['2.5', '2.5']] as const) {
      assert.throws(() => parseProfile(`name: t\ndataplanes: [baseline]\nduration: 2s\nrepetitions: ${text}\n`, 't.yaml'),
        (e: unknown) => e instanceof BadInputError && e.message.includes('a whole number of repetitions from 1 to 100') && e.message.endsWith(`(got ${got})`) && !/Too small|Too big/.test(e.message));
    }
  });

  it('a profile name too long for a results folder is refused in one line', () => {
    assert.throws(() => parseProfile(`name: ${'a'.repeat(300)}\ndataplanes: [baseline]\nduration: 2s\n`, 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /^t\.yaml: name: expected at most 64 characters \(it names the results folder\)/.test(e.message));
    assert.equal(parseProfile(`name: ${'a'.repeat(64)}\ndataplanes: [baseline]\nduration: 2s\n`, 't.yaml').name.length, 64);
  });

  it('a measured window of 0 s is refused in one line, in the profile and in a search probe', () => {
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 0s\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /^t\.yaml: duration: expected a measured window above 0, like 10s \(got "0s"\)$/.test(e.message));
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 0\n', 't.yaml'), BadInputError);
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: {p99: 5ms, duration: 0ms}}\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /load\.search\.duration: expected a measured window above 0/.test(e.message));
    assert.equal(parseProfile('name: t\ndataplanes: [baseline]\nduration: 0.5\nwarmup: 0s\n', 't.yaml').duration, '0.5s');
  });

  it('refuses a window shorter than one request interval at the lowest rate, or than the timers\' 1 ms, in steps and search probes', () => {
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 5ms\nload: {qps: [1000, 100, 0]}\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /^t\.yaml: duration: 5ms is too short to measure a rate: at least 10ms \(at 100 qps, one request interval\)/.test(e.message));
    assert.equal(parseProfile('name: t\ndataplanes: [baseline]\nduration: 10ms\nload: {qps: [1000, 100, 0]}\n', 't.yaml').duration, '10ms');
    // A rate `meshbench load` would refuse (windowFloor.maxQps) is refused before the run starts.
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nload: {qps: [1000000000]}\n', 't.yaml'), /200000/);
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nload: {qps: [100], search: {to: 1000000}}\n', 't.yaml'), /200000/);
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 0.5ms\nload: {qps: [0]}\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /duration: 500us is too short to measure a rate: at least 1ms \(the timers' resolution\)/.test(e.message));
    // A search probe without minRequests lasts its duration alone, and its lowest rate is `from`.
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: {p99: 5ms, from: 10, minRequests: 0, duration: 50ms}}\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /load\.search\.duration: a search probe's window, 50ms is too short to measure a rate: at least 100ms \(at 10 qps/.test(e.message));
    assert.ok(parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: {p99: 5ms, from: 10, duration: 50ms}}\n', 't.yaml').load.search, 'minRequests stretches the probe');
  });

  it('streams above what every L7 hop allows per connection (HAProxy\'s 100) are refused in one line', () => {
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nworkload: {protocol: grpc}\nload: {streams: 101}\n', 't.yaml'),
      (e: unknown) => e instanceof BadInputError && /^t\.yaml: load\.streams: .*<=100 \(got 101\)$/.test(e.message));
  });

  it('report labels name the protocol and streams when they are not HTTP/1.1\'s', () => {
    assert.equal(loadLabel({ qps: 1000, connections: 4, payloadBytes: 0, keepAlive: true, protocol: 'http', streams: 1 }), '1000 qps × 4 conn');
    assert.equal(loadLabel({ qps: 1000, connections: 4, protocol: 'grpc', streams: 1 }), '1000 qps × 4 conn, grpc');
    assert.equal(loadLabel({ qps: 0, connections: 1, protocol: 'http2', streams: 8 }), 'max × 1 conn, http2 × 8 streams');
  });

  it('profiles/quick-grpc.yaml is quick.yaml in gRPC: all six data planes', () => {
    const quick = loadProfile(path.join(repo, 'profiles', 'quick.yaml')).profile;
    const grpc = loadProfile(path.join(repo, 'profiles', 'quick-grpc.yaml')).profile;
    assert.equal(grpc.workload.protocol, 'grpc');
    assert.deepEqual(grpc.dataplanes, quick.dataplanes);
    assert.equal(grpc.dataplanes.length, 6);
    assert.deepEqual({ ...grpc, name: quick.name, description: quick.description, workload: quick.workload }, quick);
  });
});

describe('step plan', () => {
  it('runs baseline first and interleaves data planes across repetitions', () => {
    const p = parseProfile('name: t\ndataplanes: [sidecar, baseline, kernel]\nduration: 2s\nrepetitions: 2\nload: {qps: [100, 200]}\nprobes: {mode: inline}\n', 't.yaml');
    const steps = planSteps(p);
    assert.equal(steps.length, 3 * 2 * 2);
    assert.deepEqual(steps.slice(0, 6).map((s) => `${s.dataplane}@${s.loadPoint.qps}r${s.repetition}`),
      ['baseline@100r1', 'baseline@200r1', 'sidecar@100r1', 'sidecar@200r1', 'kernel@100r1', 'kernel@200r1']);
    assert.equal(steps[6]?.dataplane, 'baseline');
    assert.equal(steps[6]?.repetition, 2);
    assert.equal(new Set(steps.map((s) => s.deploymentKey)).size, 6, 'one deployment per data plane per repetition');
    assert.deepEqual(steps.map((s) => s.index), steps.map((_, i) => i + 1));
  });

  it('without interleaving, deploys each data plane once', () => {
    const p = parseProfile('name: t\ndataplanes: [baseline, sidecar]\nduration: 2s\nrepetitions: 3\ninterleave: false\nload: {maxThroughput: true, connections: [2, 8]}\nprobes: {mode: inline}\n', 't.yaml');
    const steps = planSteps(p);
    assert.equal(steps.length, 2 * 3 * 3);
    assert.equal(new Set(steps.map((s) => s.deploymentKey)).size, 2);
    assert.equal(steps.filter((s) => s.loadPoint.qps === 0).every((s) => s.loadPoint.connections === 8), true);
    assert.equal(stepId(steps[0] as never), 'baseline-cross-node-1000qps-c2-0b-r1');
  });

  it('probes.mode separate (the default): clean repetitions, and instrumented ones spread among them', () => {
    const p = parseProfile('name: t\ndataplanes: [sidecar, baseline]\nduration: 2s\nrepetitions: 4\n', 't.yaml');
    assert.equal(p.probes.mode, 'separate');
    assert.equal(p.probes.instrumentedRepetitions, 1);
    assert.deepEqual(measurementRounds(p).map((r) => `${r.measurement[0]}${r.repetition}`), ['c1', 'c2', 'i1', 'c3', 'c4']);
    const steps = planSteps(p);
    assert.equal(steps.length, 2 * 5);
    assert.deepEqual(steps.map((s) => `${s.dataplane}-${s.measurement[0]}${s.repetition}`).slice(0, 6),
      ['baseline-c1', 'sidecar-c1', 'baseline-c2', 'sidecar-c2', 'baseline-i1', 'sidecar-i1'], 'interleaved like the clean ones');
    assert.equal(stepId(steps[4] as never), 'baseline-cross-node-1000qps-c4-0b-i1');
    assert.equal(new Set(steps.map(stepId)).size, steps.length, 'no two steps share an id');
    const two = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nrepetitions: 6\nprobes: {instrumentedRepetitions: 2}\n', 't.yaml');
    assert.deepEqual(measurementRounds(two).map((r) => `${r.measurement[0]}${r.repetition}`), ['c1', 'c2', 'i1', 'c3', 'c4', 'i2', 'c5', 'c6']);
    // -1 and 0 are told the same bound (a fresh user saw '>=0' for -1 and 'at least 1' for 0).
    for (const n of [-1, 0]) {
      assert.throws(() => parseProfile(`name: t\ndataplanes: [baseline]\nduration: 2s\nprobes: {instrumentedRepetitions: ${n}}\n`, 't.yaml'), /instrumentedRepetitions: expected at least 1 with probes\.mode separate/);
    }
  });

  it('one repetition: clean then instrumented on the same deployment; probes off: clean only; inline: inline only', () => {
    const quick = parseProfile('name: t\ndataplanes: [baseline, kernel]\nduration: 2s\n', 't.yaml');
    const steps = planSteps(quick);
    assert.deepEqual(steps.map((s) => `${s.dataplane}-${s.measurement}`), ['baseline-clean', 'baseline-instrumented', 'kernel-clean', 'kernel-instrumented']);
    assert.equal(new Set(steps.map((s) => s.deploymentKey)).size, 2);
    assert.deepEqual(withoutInstrumented(steps).map((s) => `${s.index}${s.measurement[0]}`), ['1c', '2c']);
    const off = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nrepetitions: 2\nprobes: {enabled: false}\n', 't.yaml');
    assert.deepEqual(planSteps(off).map((s) => s.measurement), ['clean', 'clean']);
    const inline = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nprobes: {mode: inline}\n', 't.yaml');
    assert.deepEqual(planSteps(inline).map((s) => s.measurement), ['inline']);
    assert.throws(() => parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nprobes: {mode: sometimes}\n', 't.yaml'), /probes\.mode/);
  });
});

describe('repetitions {min, max, until}', () => {
  const profile = (reps: string, extra = ''): ReturnType<typeof parseProfile> => parseProfile(`name: t\ndataplanes: [sidecar, baseline]\nduration: 2s\nrepetitions: ${reps}\n${extra}`, 't.yaml');

  it('plans min repetitions first (instrumented ones among them), then one clean round per unsettled point up to max', () => {
    const p = profile('{min: 3, max: 5, until: 5%}');
    assert.deepEqual(repetitionPolicy(p), { min: 3, max: 5, untilShare: 0.05 });
    const planner = new StepPlanner(p, true);
    const first = planner.next([]);
    assert.deepEqual(first, planSteps({ ...p, repetitions: 3 }), 'the static plan of min repetitions');
    assert.deepEqual(first.map((s) => `${s.dataplane[0]}${s.measurement[0]}${s.repetition}`), ['bc1', 'sc1', 'bc2', 'sc2', 'bi1', 'si1', 'bc3', 'sc3']);
    // baseline settles (equal P99s), sidecar does not (spread): only sidecar gets a 4th, clean, repetition.
    const finished = (steps: readonly PlannedStep[], p99: (s: PlannedStep) => number): FinishedStep[] => steps.map((s) => ({ ...s, load: { latency: { percentilesUs: { 99: p99(s) } } } }));
    const noisy = (s: PlannedStep): number => (s.dataplane === 'baseline' ? 1000 : 1000 * s.repetition);
    const second = planner.next(finished(first, noisy));
    assert.deepEqual(second.map((s) => `${s.dataplane}-${s.measurement}-${s.repetition}#${s.index}`), ['sidecar-clean-4#9']);
    const third = planner.next(finished([...first, ...second], noisy));
    assert.deepEqual(third.map((s) => `${s.dataplane}-${s.repetition}`), ['sidecar-5']);
    assert.deepEqual(planner.next(finished([...first, ...second, ...third], noisy)), [], 'max reached: the plan ends');
    assert.equal(planner.planned, 10);
    const inline = new StepPlanner(profile('{min: 2, max: 3, until: 1%}', 'probes: {mode: inline}\n'), true);
    const a = inline.next([]);
    assert.deepEqual(inline.next(finished(a, noisy)).map((s) => `${s.dataplane}-${s.measurement}-${s.repetition}`), ['sidecar-inline-3']);
  });

  it('a repetition that recorded no request has no P99: it cannot settle a point (never a P99 of 0 µs), and the summary says so', () => {
    const p = profile('{min: 2, max: 3, until: 5%}', 'probes: {enabled: false}\n');
    const planner = new StepPlanner(p, true);
    const first = planner.next([]);
    // baseline recorded nothing in either repetition, sidecar twice the same P99: only sidecar has settled.
    const done = (steps: readonly PlannedStep[]): FinishedStep[] => steps.map((s) => ({ ...s, load: { latency: { percentilesUs: { 99: s.dataplane === 'baseline' ? null : 1000 } } } }));
    const second = planner.next(done(first));
    assert.deepEqual(second.map((s) => `${s.dataplane}-${s.repetition}`), ['baseline-3'], 'two empty repetitions are no interval of width 0 around 0 µs');
    assert.deepEqual(planner.next(done([...first, ...second])), [], 'max reached');
    // One repetition with a P99 and one without: one figure, below min 2, so not settled either.
    const mixed = new StepPlanner(p, true);
    const a = mixed.next([]);
    const b = mixed.next(a.map((s) => ({ ...s, load: { latency: { percentilesUs: { 99: s.repetition === 1 ? 1000 : null } } } })));
    assert.deepEqual(b.map((s) => `${s.dataplane}-${s.repetition}`), ['baseline-3', 'sidecar-3']);
    const verdict = { figure: 'latencyP99Us' as const, min: 2, max: 3, untilShare: 0.05, halfWidthShare: null, settled: false, reachedMax: true };
    assert.equal(repetitionVerdictText({ repetitions: 3, latencyLeftOut: { repetitions: 3, reason: 'no request was due in the measured window' }, repetitionVerdict: verdict }),
      '3 repetitions (max 3 reached, none with a P99 (no request was due in the measured window)): no P99 interval: not settled');
    assert.equal(repetitionVerdictText({ repetitions: 3, latencyLeftOut: { repetitions: 1, reason: 'x' }, repetitionVerdict: { ...verdict, halfWidthShare: 0.5 } }),
      '3 repetitions (max 3 reached, 1 without a P99 (x)): P99 interval ±50.0% of its median (> ±5.0%): not settled');
  });

  it('a plain number plans exactly as before; bad values get one line naming the field', () => {
    const p = profile('4');
    const planner = new StepPlanner(p, true);
    assert.deepEqual(planner.next([]), planSteps(p));
    assert.deepEqual(planner.next([]), []);
    const bad = (reps: string, re: RegExp): void => {
      assert.throws(() => profile(reps), (e: Error) => {
        assert.equal(e.message.split('\n').length, 1);
        assert.match(e.message, re);
        return true;
      });
    };
    bad('{min: 3, max: 15, until: 5}', /^t\.yaml: repetitions\.until: expected a percent like "5%", received number \(got 5\)$/);
    bad('{min: 3, max: 15}', /repetitions\.until: expected a percent like "5%" \(got nothing\)/);
    bad('{min: 5, max: 3, until: 5%}', /repetitions: expected min ≤ max/);
    bad('{min: 3, max: 15, until: 0%}', /repetitions\.until: expected a percent above 0%/);
    bad('{min: 3, max: 15, until: 5%, by: p50}', /repetitions: unknown key "by"/);
    bad('{min: 0, until: 5%}', /repetitions\.min: .*>0/);
    bad('[3]', /repetitions: expected a whole number of repetitions from 1 to 100 or \{min, max, until\}.*, received array/);
  });
});
