import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { calibrationVerdicts, probedRequests } from '../../harness/attribution/calibrationVerdict';
import { BadInputError } from '../../harness/errors';
import { parseCalibrationControl } from '../../harness/profile/calibrationControl';
import { parseProfile } from '../../harness/profile/profileLoad';
import { withOverrides } from '../../harness/profile/profileOverrides';
import type { StepRecord } from '../../harness/results/resultTypes';
import { summarise } from '../../harness/results/summarise';
import { formatSummaryText } from '../../harness/results/summaryText';
import { profileForVariant, withCalibrationVariants } from '../../harness/runner/calibrationVariants';
import { planSteps, stepId } from '../../harness/runner/stepPlan';
import { calibrationSection } from '../../reports/calibration/calibrationSection';
import { syntheticRun } from '../helpers/syntheticRun';
import { variantOf } from '../helpers/calibrationVariant';

const profileText = (extra: string): string => `name: cal\ndataplanes: [baseline]\nduration: 2s\nrepetitions: 2\n${extra}`;

describe('calibration controls in a profile', () => {
  it('reads one control per entry, with its kind, amount and variant name', () => {
    assert.deepEqual(parseCalibrationControl('burn=200us'), { kind: 'burn', amount: 200, query: 'burn=200us', name: 'burn200us' });
    assert.deepEqual(parseCalibrationControl('copies=4'), { kind: 'copies', amount: 4, query: 'copies=4', name: 'copies4' });
    assert.equal(parseCalibrationControl('burn=1ms').amount, 1000);
    assert.equal(parseCalibrationControl('switches=10').name, 'switches10');
  });

  it('refuses two controls in one entry, a percent mix, zero, other controls and unknown keys, each with one line', () => {
    for (const bad of ['burn=200us&copies=2', 'copies=2:50', 'copies=0', 'delay=1ms', 'nonsense', 'connects=x']) {
      assert.throws(() => parseCalibrationControl(bad), (e: Error) => !e.message.includes('\n'), bad);
    }
  });

  it('the profile schema validates the list, and needs the baseline and HTTP', () => {
    const p = parseProfile(profileText('calibration: [burn=200us, copies=4]\n'), 'cal.yaml');
    assert.deepEqual(p.calibration, ['burn=200us', 'copies=4']);
    assert.equal(parseProfile(profileText(''), 'cal.yaml').calibration, undefined);
    const refused = (text: string, pattern: RegExp): void => {
      assert.throws(() => parseProfile(text, 'cal.yaml'), (e: unknown) => e instanceof BadInputError && pattern.test(e.message) && !e.message.includes('\n'));
    };
    refused(profileText('calibration: [burn=200us, burn=200us]\n'), /calibration: expected no repeated entries/);
    refused(profileText('calibration: [copies=2:50]\n'), /calibration\[0\]: .*one value without a percent/);
    refused('name: cal\ndataplanes: [sidecar]\nduration: 2s\ncalibration: [burn=200us]\n', /calibration: .*add baseline/);
    refused(profileText('workload: {protocol: tcp}\ncalibration: [burn=200us]\n'), /calibration: .*HTTP/);
  });

  it('plans each variant after the plain baseline steps of its round, on a deployment of its own, with its own step id', () => {
    const p = parseProfile('name: cal\ndataplanes: [baseline, sidecar]\nduration: 2s\nrepetitions: 2\nload: {connections: [4, 16]}\ncalibration: [burn=200us, switches=10]\n', 'cal.yaml');
    const plain = planSteps(p);
    const plan = withCalibrationVariants(plain, p);
    assert.equal(plan.length, plain.length + 2 * plain.filter((s) => s.dataplane === 'baseline').length);
    assert.deepEqual(plan.map((s) => s.index), plan.map((_, i) => i + 1));
    assert.equal(new Set(plan.map(stepId)).size, plan.length, 'step ids are unique');
    // Round 1: baseline c4, c16 (one deployment), then burn c4, c16, then switches c4, c16, then sidecar.
    assert.deepEqual(plan.slice(0, 7).map((s) => `${s.dataplane}${s.variant === undefined ? '' : `+${s.variant}`} c${s.loadPoint.connections}`),
      ['baseline c4', 'baseline c16', 'baseline+burn=200us c4', 'baseline+burn=200us c16', 'baseline+switches=10 c4', 'baseline+switches=10 c16', 'sidecar c4']);
    assert.equal(plan[2]?.deploymentKey, plan[3]?.deploymentKey);
    assert.notEqual(plan[2]?.deploymentKey, plan[0]?.deploymentKey);
    assert.notEqual(plan[2]?.deploymentKey, plan[4]?.deploymentKey);
    assert.match(stepId(plan[2] as NonNullable<(typeof plan)[number]>), /^baseline\+burn200us-cross-node-1000qps-c4-0b-r1$/);
    assert.deepEqual(withCalibrationVariants(plain, parseProfile(profileText(''), 'x.yaml')).length, plain.length);
  });

  it('the shipped profile: 5 instrumented repetitions after its 2 clean ones, each variant with a plain baseline of the same repetition', () => {
    // Student's t over the repetitions (the verdict's simultaneous intervals) needs more than 2; the rounds past the
    // last clean one run at the end, each interleaved like the others (a deployment per data plane and round).
    const file = path.join(__dirname, '..', '..', '..', 'profiles', 'calibration.yaml');
    const p = parseProfile(fs.readFileSync(file, 'utf8'), file);
    assert.equal(p.repetitions, 2);
    assert.equal(p.probes.instrumentedRepetitions, 5);
    const plan = withCalibrationVariants(planSteps(p), p);
    const instrumented = plan.filter((s) => s.measurement === 'instrumented');
    for (const variant of [undefined, ...(p.calibration ?? [])]) {
      assert.deepEqual(instrumented.filter((s) => s.variant === variant).map((s) => s.repetition), [1, 2, 3, 4, 5], `${variant ?? 'plain'}`);
    }
    assert.equal(plan.filter((s) => s.measurement === 'clean').length, 2 * 5);
    assert.equal(new Set(plan.map((s) => s.deploymentKey)).size, 7 * 5, 'a deployment per data plane or variant and round');
  });

  it("a variant's deployment gets its controls after the profile's own server controls", () => {
    const p = parseProfile(profileText('workload: {serverControls: size=1024}\ncalibration: [copies=4]\n'), 'cal.yaml');
    assert.equal(profileForVariant(p, 'copies=4').workload.serverControls, 'size=1024&copies=4');
    assert.equal(profileForVariant(p, undefined), p);
  });

  it('meshbench run overrides (repetitions, duration) are validated like the file', () => {
    const loaded = { profile: parseProfile(profileText(''), 'cal.yaml'), file: 'cal.yaml', hash: 'h', text: '' };
    const short = withOverrides(loaded, { repetitions: '3', duration: '3s' });
    assert.equal(short.profile.repetitions, 3);
    assert.equal(short.profile.duration, '3s');
    assert.equal(withOverrides(loaded, {}), loaded);
    assert.throws(() => withOverrides(loaded, { repetitions: '0' }), (e: unknown) => e instanceof BadInputError && /cal\.yaml with --repetitions: repetitions/.test(e.message));
    assert.throws(() => withOverrides(loaded, { duration: 'soon' }), BadInputError);
  });
});

/** Probe detail with bytesCopied per component (what the copy probe records), `serverExtra` bytes per request more on the server. */
function withCopied(s: StepRecord, serverExtraPerRequest: number): StepRecord {
  const r = s.load.requestsCompleted;
  return { ...s, probes: { ...s.probes, detail: { client: { bytesCopied: 120 * r }, server: { bytesCopied: (100 + serverExtraPerRequest) * r } } } };
}

describe('calibration verdict', () => {
  const { steps } = syntheticRun({ runId: 'cal', dataplanes: ['baseline'], repetitions: 3, samplesPerStep: 50, seed: 7 });
  const burnUser = 'node;uv_run;burnCpu';
  const copyKernel = 'node;uv_run;writeSync;entry_SYSCALL_64_[k];do_syscall_64_[k];__x64_sys_write_[k];unix_stream_sendmsg_[k];skb_copy_datagram_from_iter_[k];_copy_from_iter_[k]';

  it('burn: the application category recovers the burn within ±20 %, nothing else moves: recovered', () => {
    const all = [...steps, ...steps.map((s) => variantOf(s, 'burn=200us', 200, burnUser))];
    const summary = summarise('cal', 'complete', all);
    const v = summary.calibration?.[0];
    assert.ok(v !== undefined);
    assert.equal(v.kind, 'burn');
    assert.equal(v.category, 'application');
    assert.ok(Math.abs((v.categoryUs as number) - 200) < 1, `application ${v.categoryUs}`);
    assert.deepEqual(v.othersMoved, []);
    assert.equal(v.verdict, 'recovered', v.why);
    assert.deepEqual(v.bars, { category: true, count: null, others: true });
    assert.equal(v.injected, 200);
    assert.equal(summary.groups.find((g) => g.variant === 'burn=200us')?.dataplane, 'baseline');
  });

  it('judges the other categories on simultaneous intervals (Bonferroni over the breakdown\'s 9 categories), not on each one\'s 95 % interval', () => {
    const all = [...steps, ...steps.map((s) => variantOf(s, 'burn=200us', 200, burnUser))];
    const summary = summarise('cal', 'complete', all);
    const g = summary.groups.find((x) => x.variant === 'burn=200us');
    const u = g?.breakdownUncertainty;
    assert.ok(g !== undefined && u !== undefined && u !== null);
    assert.equal(u.familyCategories, 9);
    assert.ok(Math.abs((u.familyConfidence as number) - (1 - 0.05 / 9)) < 1e-12);
    for (const c of Object.keys(u.byCategoryIntervalUs) as Array<keyof typeof u.byCategoryIntervalUs>) {
      const iv = u.byCategoryIntervalUs[c];
      const fam = u.byCategoryFamilyIntervalUs?.[c];
      assert.ok(fam !== undefined && fam.low <= iv.low && fam.high >= iv.high, `${c}: the simultaneous interval holds the 95 % one`);
    }
    const withSyscalls = (per: { low: number; high: number }, family: { low: number; high: number } | undefined) => [{
      ...g,
      breakdownUncertainty: {
        ...u,
        byCategoryIntervalUs: { ...u.byCategoryIntervalUs, syscalls: per },
        byCategoryFamilyIntervalUs: family === undefined ? undefined : { ...(u.byCategoryFamilyIntervalUs as typeof u.byCategoryIntervalUs), syscalls: family },
        ...(family === undefined ? { familyConfidence: undefined, familyCategories: undefined } : {}),
      },
    }];
    // Outside 0 at 95 %, inside at 99.44 %: one of 9 categories past a 95 % bound is what chance alone gives.
    const chance = calibrationVerdicts(withSyscalls({ low: 0.4, high: 6 }, { low: -1.2, high: 7.5 }), all)[0];
    assert.equal(chance?.verdict, 'recovered', chance?.why);
    assert.match(chance?.why ?? '', /every other category within its interval \(99\.44 % intervals, 95 % for all together: Student's t over the 3 repetitions, or the bootstrap's where wider\)/);
    const moved = calibrationVerdicts(withSyscalls({ low: 2, high: 6 }, { low: 0.5, high: 7.5 }), all)[0];
    assert.equal(moved?.verdict, 'missed');
    assert.deepEqual(moved?.othersMoved.map((m) => [m.category, m.intervalUs]), [['syscalls', { low: 0.5, high: 7.5 }]]);
    assert.match(moved?.why ?? '', /other categories moved \(99\.44 % intervals, 95 % for all together: Student's t over the 3 repetitions, or the bootstrap's where wider\): syscalls/);
    // A summary written before the simultaneous intervals: judged on the 95 % ones, and says so.
    const old = calibrationVerdicts(withSyscalls({ low: 0.4, high: 6 }, undefined), all)[0];
    assert.equal(old?.verdict, 'missed');
    assert.equal(old?.othersConfidence, 0.95);
    assert.match(old?.why ?? '', /other categories moved \(95 % intervals, each on its own: a summary without simultaneous ones\): syscalls/);
  });

  it('burn found at half its size is missed, and says by how much', () => {
    const all = [...steps, ...steps.map((s) => variantOf(s, 'burn=200us', 100, burnUser))];
    const v = calibrationVerdicts(summarise('cal', 'complete', all).groups, all)[0];
    assert.equal(v?.verdict, 'missed');
    assert.match(v?.why ?? '', /application 100\.\d µs .* is −50% of the 200 µs burnt \(bar ±20%\)/);
  });

  it('copies: bytes copied per request exactly N × the reply, and the copying category up; another category moving is named', () => {
    const base = steps.map((s) => withCopied(s, 0));
    const copies = base.map((s) => variantOf(s, 'copies=4', 12, copyKernel, (x) => withCopied(x, 4 * 120)));
    const v = calibrationVerdicts(summarise('cal', 'complete', [...base, ...copies]).groups, [...base, ...copies])[0];
    assert.equal(v?.injected, 480, 'N × the reply bytes (120 in the synthetic run)');
    assert.ok(Math.abs((v?.counted as number) - 480) < 1e-9);
    assert.ok((v?.categoryIntervalUs?.low as number) > 0);
    assert.equal(v?.verdict, 'recovered', v?.why);
    // The same known work with the proxy-free server also spending 40 µs in the network stack.
    const noisy = base.map((s) => variantOf(variantOf(s, 'copies=4', 12, copyKernel, (x) => withCopied(x, 480)), 'copies=4', 40, 'node;uv_run;writeSync;entry_SYSCALL_64_[k];tcp_sendmsg_[k];tcp_write_xmit_[k]'));
    const w = calibrationVerdicts(summarise('cal', 'complete', [...base, ...noisy]).groups, [...base, ...noisy])[0];
    assert.equal(w?.verdict, 'missed');
    assert.deepEqual(w?.othersMoved.map((m) => m.category), ['network-stack']);
    assert.doesNotMatch(w?.why ?? '', /inherent/, 'the network stack is not what copies through a socket pair must cost');
    assert.deepEqual(w?.bars, { category: true, count: true, others: false });
  });

  it("names a movement the control's mechanism cannot avoid as inherent, and still misses the bar on it", () => {
    const base = steps.map((s) => withCopied(s, 0));
    const noisy = base.map((s) => variantOf(variantOf(s, 'copies=4', 12, copyKernel, (x) => withCopied(x, 480)), 'copies=4', 8, 'node;uv_run;writev;entry_SYSCALL_64_[k];do_syscall_64_[k]'));
    const w = calibrationVerdicts(summarise('cal', 'complete', [...base, ...noisy]).groups, [...base, ...noisy])[0];
    assert.equal(w?.verdict, 'missed');
    assert.deepEqual(w?.bars, { category: true, count: true, others: false });
    assert.match(w?.why ?? '', /kernel-unclassified \+8\.\d µs \[[^\]]+\] \(inherent: the entry and exit of those 2 system calls\)/);
  });

  it('beside a kernel-work control, application is judged like the others and split by component on a line of its own; beside burn it is the category', () => {
    const base = steps.map((s) => withCopied(s, 0));
    const slower = base.map((s) => variantOf(variantOf(s, 'copies=4', 12, copyKernel, (x) => withCopied(x, 480)), 'copies=4', 20, 'node;uv_run;onStreamRead;llhttp__internal_execute'));
    const all = [...base, ...slower];
    const summary = summarise('cal', 'complete', all);
    const w = calibrationVerdicts(summary.groups, all)[0];
    assert.equal(w?.verdict, 'missed', w?.why);
    assert.deepEqual(w?.othersMoved.map((m) => m.category), ['application']);
    assert.match(w?.why ?? '', /application \+20\.\d µs \[[^\]]+\] \(inherent: the user-space side of the 2 system calls per request: on the native path the addon's call/);
    assert.equal(w?.indirectUserspace?.category, 'application');
    assert.ok(Math.abs((w?.indirectUserspace?.us as number) - 20) < 1, `application ${w?.indirectUserspace?.us}`);
    assert.ok(Math.abs((w?.indirectUserspace?.byComponentUs.server as number) - 20) < 1, 'the server holds it, not the load client');
    assert.match(w?.why ?? '', /user space beside the control \([^)]*\): application \+20\.\d µs \[[^\]]+\] \(95 % interval[^)]*\) = client [+−]0\.0, server \+20\.\d$/);
    // Nothing beside the control: the line is still there, within noise, and the verdict is met.
    const plainWork = base.map((s) => variantOf(s, 'copies=4', 12, copyKernel, (x) => withCopied(x, 480)));
    const quiet = calibrationVerdicts(summarise('cal', 'complete', [...base, ...plainWork]).groups, [...base, ...plainWork])[0];
    assert.equal(quiet?.verdict, 'recovered', quiet?.why);
    assert.match(quiet?.why ?? '', /application [+−]\d+\.\d µs \[[^\]]+\] \(95 % interval: within noise\) = client [+−]\d+\.\d, server [+−]\d+\.\d$/);
    assert.match(quiet?.why ?? '', /\[−\d+\.\d, \d+\.\d\]/, 'a negative bound written with U+2212, as the run table');
    assert.doesNotMatch(quiet?.why ?? '', /\[-/);
    const burnSteps = [...steps, ...steps.map((s) => variantOf(s, 'burn=200us', 200, 'node;uv_run;burnCpu'))];
    const burn = calibrationVerdicts(summarise('cal', 'complete', burnSteps).groups, burnSteps)[0];
    assert.equal(burn?.indirectUserspace, null);
    assert.doesNotMatch(burn?.why ?? '', /beside the control/);
  });

  it('counts per request the probes saw: the client bytes received over the reply size, not the window', () => {
    const s = steps[0] as StepRecord;
    assert.equal(probedRequests(s), s.load.requestsCompleted);
    const late = { ...s, probes: { ...s.probes, figures: { ...s.probes.figures, client: { ...(s.probes.figures.client as NonNullable<StepRecord['probes']['figures'][string]>), bytesReceived: 120 * (s.load.requestsCompleted - 100) } } } };
    assert.equal(probedRequests(late), s.load.requestsCompleted - 100);
  });

  it("the breakdown's per-request kernel figures divide by the requests the probes saw too, and bytes/req counts Unix sockets", () => {
    type Figures = NonNullable<StepRecord['probes']['figures'][string]>;
    // The probes saw 96 % of the window's requests: every count below is per request seen.
    const seen = (s: StepRecord, unixPerRequest: number, connectsPerRequest: number): StepRecord => {
      const r = s.load.requestsCompleted;
      const probed = 0.96 * r;
      const client = s.probes.figures.client as Figures;
      const server = s.probes.figures.server as Figures;
      return {
        ...s,
        probes: {
          ...s.probes,
          figures: { ...s.probes.figures, client: { ...client, bytesReceived: 120 * probed, connectionsOpened: 0 }, server: { ...server, connectionsOpened: connectsPerRequest * probed } },
          detail: { ...s.probes.detail, server: { bytesSentUnix: (unixPerRequest / 2) * probed, bytesReceivedUnix: (unixPerRequest / 2) * probed } },
        },
      };
    };
    const base = steps.map((s) => seen(s, 0, 0));
    const variant = base.map((s) => variantOf(s, 'copies=4', 12, copyKernel, (x) => seen(x, 2 * 4 * 120, 2)));
    const g = summarise('cal', 'complete', [...base, ...variant]).groups.find((x) => x.variant === 'copies=4');
    const b = g?.breakdown;
    assert.ok(b !== null && b !== undefined);
    // Sent and received through the socket pair: 2 × 4 × 120 B, exactly (not 4 % low).
    assert.ok(Math.abs((b.extraBytesCopiedPerRequest as number) - 960) < 1e-6, `bytes/req ${b.extraBytesCopiedPerRequest}`);
    assert.ok(Math.abs((b.extraConnectionsPerRequest as number) - 2) < 1e-9, `conns/req ${b.extraConnectionsPerRequest}`);
    const md = calibrationSection(summarise('cal', 'complete', [...base, ...variant]).calibration).join('\n');
    assert.match(md, /shows there as 2 × N × the reply/, 'the report says why bytes/req is twice the table\'s count');
  });

  it('connects without probe figures: missed, saying the count was not measured; text and Markdown carry the table', () => {
    const noProbes = steps.map((s) => ({ ...s, probes: { ...s.probes, available: false } }));
    const conn = noProbes.map((s) => variantOf(s, 'connects=2', 30, 'node;uv_run;connect;entry_SYSCALL_64_[k];__sys_connect_[k];tcp_v4_connect_[k]'));
    const summary = summarise('cal', 'complete', [...noProbes, ...conn]);
    const v = summary.calibration?.[0];
    assert.equal(v?.counted, null);
    assert.equal(v?.verdict, 'missed');
    assert.match(v?.why ?? '', /connections per request not measured/);
    const text = formatSummaryText(summary);
    assert.match(text, /calibration: known work injected/);
    assert.match(text, /baseline\+connects2 /);
    assert.match(text, /connects=2 +1000 qps c4 +2 connections +connections \+\d/);
    const md = calibrationSection(summary.calibration).join('\n');
    assert.match(md, /^## Calibration/m);
    assert.match(md, /\| connects=2 \| 1000 qps c4 \| 2 connections \|/);
    assert.deepEqual(calibrationSection(undefined), []);
  });
});
