import assert from 'node:assert/strict';
import { gaussian, seededRandom } from '../../harness/results/stats/seededRandom';
import { budgetNote, defaultCloseMargin, judgeProbe, medianVerdict, nextRate, probeDurationUs, probeNoisy, rateSearchConfig, rateVerdict, searchMaxRate, searchResult, type ProbeMeasurement, type RateSearchConfig, type SearchProbe } from '../../harness/runner/rateSearch';
import { parseProfile } from '../../harness/profile/profileLoad';
import { searchSummaryLines } from '../../harness/results/searchSummary';

/**
 * The rate search on synthetic latency-against-rate curves, where the true maximum is known: an M/M/1
 * queue of capacity C has P99 sojourn time ln(100) / (C − λ), so P99 ≤ 5 ms holds up to λ* = C − ln(100)/0.005.
 */
const config = (o: Partial<RateSearchConfig> = {}): RateSearchConfig => ({
  objective: { p99Us: 5000, errorShare: 0.001 }, fromQps: 500, toQps: 200_000, maxProbes: 12, resolution: 0.05, closeMargin: defaultCloseMargin, factor: 2, ...o,
});

/** A probe measurement of an M/M/1 queue of `capacity` req/s at `qps`, its P99 scaled by `noise` (1 = none). */
function mm1(capacity: number, qps: number, noise = 1): ProbeMeasurement {
  const over = qps >= capacity;
  const p99Us = over ? 2_000_000 : (1e6 * Math.log(100) * noise) / (capacity - qps);
  const requests = Math.round(qps * 2);
  const errors = over ? Math.round(requests * Math.min(1, (qps - capacity) / qps + 0.01)) : 0;
  return { achievedQps: Math.min(qps, capacity), p50Us: p99Us / 6.6, p99Us, maxUs: p99Us * 1.5, requests, errors, cpuUsPerRequest: 50, stepId: `s-${qps}` };
}

const trueMax = (capacity: number): number => capacity - (1e6 * Math.log(100)) / 5000;

describe('rate search (exponential then binary, Nighthawk-style)', () => {
  it('a monotone curve: doubles from `from` until a rate fails, then bisects to within the resolution, in at most 12 probes', async () => {
    const capacity = 12_000;
    const rates: number[] = [];
    const r = await searchMaxRate(config(), async (qps) => { rates.push(qps); return mm1(capacity, qps); });
    assert.deepEqual(rates.slice(0, 6), [500, 1000, 2000, 4000, 8000, 16000], 'exponential phase, factor 2');
    assert.equal(rates[6], 12000, 'then the midpoint of 8000 and 16000');
    assert.ok(r.probes.length <= 12, `${r.probes.length} probes`);
    assert.equal(r.outcome, 'converged');
    const { low, high } = r.knownWithin;
    assert.ok(low !== null && high !== null);
    assert.ok(low <= trueMax(capacity) && trueMax(capacity) < high, `[${low}, ${high}) holds the true maximum ${trueMax(capacity).toFixed(0)}`);
    assert.ok((high - low) / low <= 0.05, 'within the resolution');
    assert.equal(r.maxQps, low);
    assert.ok(r.probes.every((p) => p.verdict === (p.qps <= trueMax(capacity) ? 'pass' : 'fail')), 'every verdict right on a noiseless curve');
  });

  it('noisy near the knee: close verdicts are repeated and decided by majority, and the answer stays near the truth', async () => {
    const capacity = 6_000;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = seededRandom(seed);
      const r = await searchMaxRate(config(), async (qps) => mm1(capacity, qps, Math.exp(0.08 * gaussian(random))));
      assert.ok(r.probes.length <= 12, `seed ${seed}: ${r.probes.length} probes`);
      assert.ok(r.maxQps !== null);
      assert.ok(Math.abs(r.maxQps - trueMax(capacity)) / trueMax(capacity) < 0.1, `seed ${seed}: ${r.maxQps} against ${trueMax(capacity).toFixed(0)}`);
      for (const end of [r.knownWithin.low, r.knownWithin.high]) {
        const at = r.probes.filter((x) => x.qps === end);
        if (at.length === 1 && at[0]?.provisional === true) assert.equal(r.probes.length, 12, `seed ${seed}: a lone close verdict at a bracket end (${end}) only when the budget ran out`);
      }
    }
    // The same noise with no repeats at all would take a lone close verdict at its word; with them, a rate
    // probed twice shows up somewhere in these searches.
    const repeated = [1, 2, 3, 4, 5, 6, 7, 8].some((seed) => {
      const random = seededRandom(seed);
      const probes: SearchProbe[] = [];
      for (let i = 0; i < 12; i += 1) {
        const next = nextRate(config(), probes);
        if ('end' in next) break;
        const m = mm1(capacity, next.qps, Math.exp(0.08 * gaussian(random)));
        probes.push({ ...m, probe: i + 1, qps: next.qps, ...judgeProbe(m, config().objective, defaultCloseMargin) });
      }
      return new Set(probes.map((p) => p.qps)).size < probes.length;
    });
    assert.ok(repeated, 'some close verdict was repeated');
  });

  it('a close pass in the exponential phase is not repeated when a higher rate passes (the noise floor costs no probes)', async () => {
    const rates: number[] = [];
    // P99 sits at 4 ms (within 25 % of 5 ms) up to 4000 qps, then the queue's knee.
    const r = await searchMaxRate(config(), async (qps) => { rates.push(qps); return { ...mm1(12_000, qps), p99Us: qps <= 4000 ? 4000 : mm1(12_000, qps).p99Us }; });
    assert.deepEqual(rates.slice(0, 6), [500, 1000, 2000, 4000, 8000, 16000], 'no repeats on the way up');
    assert.ok(r.probes.slice(0, 4).every((p) => p.provisional && p.verdict === 'pass'));
    assert.ok(r.maxQps !== null && r.maxQps > 10_000, `${r.maxQps}`);
  });

  it('all failing: the first rate fails, the search ends at once with no rate and "below from"', async () => {
    const r = await searchMaxRate(config(), async (qps) => mm1(200, qps));
    assert.equal(r.probes.length, 1);
    assert.equal(r.outcome, 'below-from');
    assert.equal(r.maxQps, null);
    assert.deepEqual(r.knownWithin, { low: null, high: 500 });
    assert.match(r.note, /failed at the first rate \(500 qps\)/);
  });

  it('all passing up to `to`: doubles to the ceiling, probes `to` itself, and reports "at least to"', async () => {
    const rates: number[] = [];
    const r = await searchMaxRate(config({ toQps: 100_000 }), async (qps) => { rates.push(qps); return mm1(10_000_000, qps); });
    assert.deepEqual(rates, [500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 100000]);
    assert.equal(r.outcome, 'reached-to');
    assert.equal(r.maxQps, 100_000);
    assert.deepEqual(r.knownWithin, { low: 100_000, high: null });
  });

  it('the probe budget ends a search that has not converged, with the bracket it reached', async () => {
    const r = await searchMaxRate(config({ resolution: 0.0001, maxProbes: 8 }), async (qps) => mm1(12_000, qps));
    assert.equal(r.probes.length, 8);
    assert.equal(r.outcome, 'budget');
    assert.ok(r.knownWithin.low !== null && r.knownWithin.high !== null && r.knownWithin.low < r.knownWithin.high);
  });

  it('the budget note reads right for every bracket: both ends, only a pass, only a fail, neither', async () => {
    // Every rate passes until the budget runs out: no failing rate, so no upper end (it read "between 2000 and more than that qps").
    const r = await searchMaxRate(config({ maxProbes: 3 }), async (qps) => mm1(1_000_000, qps));
    assert.equal(r.outcome, 'budget');
    assert.deepEqual(r.knownWithin, { low: 2000, high: null });
    assert.equal(r.note, 'stopped at the 3-probe budget: the maximum is at least 2000 qps (no rate tried failed)');
    assert.equal(budgetNote(12, 16000, 17600), 'stopped at the 12-probe budget: the maximum lies between 16000 and 17600 qps');
    assert.equal(budgetNote(12, null, 4000), 'stopped at the 12-probe budget: the maximum is below 4000 qps (no rate tried passed)');
    assert.equal(budgetNote(12, null, null), 'stopped at the 12-probe budget: no rate tried passed or failed for certain, so the maximum is not bounded');
  });

  it('errors alone fail a probe; an interrupted search says so; the summary replays the same answer from the probes', async () => {
    const m = { ...mm1(10_000, 1000), errors: 10, requests: 2000 };
    assert.equal(judgeProbe(m, config().objective, 0.1).verdict, 'fail', '0.5 % errors > 0.1 %');
    assert.match(judgeProbe(m, config().objective, 0.1).reason, /errors 0\.50 % > 0\.10 %/);
    assert.equal(judgeProbe({ ...m, errors: 0 }, { p99Us: null, errorShare: 0 }, 0.1).verdict, 'pass');
    assert.equal(judgeProbe({ ...m, requests: 0, errors: 0 }, config().objective, 0.1).verdict, 'fail', 'no request recorded fails');
    let n = 0;
    const stopped = await searchMaxRate(config(), async (qps) => (++n > 3 ? undefined : mm1(12_000, qps)));
    assert.equal(stopped.outcome, 'interrupted');
    assert.equal(stopped.maxQps, 2000);
    const full = await searchMaxRate(config(), async (qps) => mm1(12_000, qps, 1.05));
    assert.deepEqual(searchResult(config(), full.probes), full);
  });

  it('a fail on a noisy machine is probed again, a pass is not: one stall at a low rate does not end the search', async () => {
    const m = mm1(12_000, 1000);
    assert.equal(judgeProbe({ ...m, noisy: true }, config().objective, 0.1).provisional, false, 'a pass under noise stands');
    const stalled = { ...m, p99Us: 40_000, noisy: true };
    assert.deepEqual([judgeProbe(stalled, config().objective, 0.1).verdict, judgeProbe(stalled, config().objective, 0.1).provisional], ['fail', true]);
    assert.match(judgeProbe(stalled, config().objective, 0.1).reason, /\(noisy machine\)$/);
    let stalls = 0;
    const rates: number[] = [];
    const r = await searchMaxRate(config(), async (qps) => {
      rates.push(qps);
      // The first probe at 2000 qps lands on someone else's compile.
      if (qps === 2000 && stalls++ === 0) return { ...mm1(12_000, qps), p99Us: 30_000, noisy: true };
      return mm1(12_000, qps);
    });
    assert.deepEqual(rates.slice(0, 5), [500, 1000, 2000, 2000, 4000], 'the noisy fail is repeated, and the clear pass decides: the noisy fail was inconclusive');
    const at = (p99Us: number, noisy: boolean): SearchProbe => {
      const m2 = { ...mm1(12_000, 2000), p99Us, noisy };
      return { ...m2, probe: 1, qps: 2000, ...judgeProbe(m2, config().objective, defaultCloseMargin) };
    };
    assert.equal(rateVerdict([at(30_000, true), at(1000, false)]), 'pass', 'a noisy fail is left out while the rate has other probes');
    assert.equal(rateVerdict([at(30_000, true), at(9000, true)]), undefined, 'two noisy fails: a third probe');
    assert.equal(rateVerdict([at(30_000, true), at(9000, true), at(7000, true)]), 'fail', 'three noisy fails: the rate fails');
    assert.equal(rateVerdict([at(30_000, true), at(9000, false)]), 'fail', 'a fail on a quiet machine stands');
    // With a noise share set (profiles): other work above it makes a P99 fail inconclusive, below it the fail stands.
    const m3 = { ...mm1(12_000, 2000), p99Us: 9000, noisy: true };
    assert.equal(probeNoisy({ ...m3, otherShare: 0.2 }, { noisyShare: 0.25 }), false, 'flagged at 10 %, but 20 % is not the neighbour\'s fail');
    assert.equal(probeNoisy({ ...m3, otherShare: 0.4 }, { noisyShare: 0.25 }), true);
    assert.equal(probeNoisy({ ...m3, otherShare: 0.01, stolen: true }, { noisyShare: 0.25 }), true, 'CPU steal');
    assert.equal(probeNoisy(m3, { noisyShare: 0.25 }), true, 'no share recorded: the flag decides');
    assert.equal(judgeProbe({ ...m3, otherShare: 0.2 }, config().objective, defaultCloseMargin, 0.25).noisyFail, false);
    assert.equal(judgeProbe({ ...m3, otherShare: 0.4 }, config().objective, defaultCloseMargin, 0.25).noisyFail, true);
    assert.ok(r.maxQps !== null && r.maxQps > 8000, `the search went on past the stall: ${r.maxQps}`);
    assert.ok(r.probes.length <= 12);
  });

  it('rate verdicts: one clear probe decides, a close one is repeated, a split takes a third, a spent budget decides conservatively', () => {
    const p = (verdict: 'pass' | 'fail', close: boolean): SearchProbe => ({ ...mm1(1000, 10), probe: 1, qps: 10, verdict, provisional: close, reason: '', errorShare: 0 });
    assert.equal(rateVerdict([p('pass', false)]), 'pass');
    assert.equal(rateVerdict([p('pass', true)]), undefined);
    assert.equal(rateVerdict([p('pass', true)], true), 'pass');
    assert.equal(rateVerdict([p('pass', true), p('pass', true)]), 'pass');
    assert.equal(rateVerdict([p('pass', true), p('fail', true)]), undefined);
    assert.equal(rateVerdict([p('pass', true), p('fail', true)], true), 'fail');
    assert.equal(rateVerdict([p('pass', true), p('fail', true), p('pass', false)]), 'pass');
    assert.equal(judgeProbe(mm1(10_000, 10_000 - 1e6 * Math.log(100) / 5200), config().objective, 0.1).provisional, true, 'P99 4.8 ms against 5 ms is close');
    assert.equal(judgeProbe(mm1(10_000, 1000), config().objective, 0.1).provisional, false);
  });

  /** The configuration a profile's `load.search` gives: 10,000-request probes, up to 3 per rate, both ends confirmed. */
  const confirming = (o: Partial<RateSearchConfig> = {}): RateSearchConfig => config({ minRequests: 10_000, maxProbesPerRate: 3, confirmBounds: true, ...o });

  it('a probe lasts at least minRequests requests: 20 s at 500 qps, the configured 2 s from 5000 qps up', () => {
    assert.equal(probeDurationUs(confirming(), 500, 2_000_000), 20_000_000);
    assert.equal(probeDurationUs(confirming(), 3000, 2_000_000), 3_334_000, 'rounded up to the millisecond');
    assert.equal(probeDurationUs(confirming(), 5000, 2_000_000), 2_000_000);
    assert.equal(probeDurationUs(confirming(), 80_000, 2_000_000), 2_000_000);
    assert.equal(probeDurationUs(config(), 500, 2_000_000), 2_000_000, 'results written before minRequests: the duration alone');
    assert.equal(probeDurationUs(confirming({ minRequests: 0 }), 500, 2_000_000), 2_000_000);
  });

  it('confirms both ends of the final bracket: the highest passing rate passes again, the lowest failing rate fails again', async () => {
    const capacity = 12_000;
    const r = await searchMaxRate(confirming(), async (qps) => mm1(capacity, qps));
    assert.equal(r.outcome, 'converged');
    assert.equal(r.confirmed, true);
    const { low, high } = r.knownWithin;
    assert.ok(low !== null && high !== null && low <= trueMax(capacity) && trueMax(capacity) < high, `[${low}, ${high})`);
    assert.equal(r.probes.filter((p) => p.qps === low).length, 2, 'the highest passing rate probed twice');
    assert.equal(r.probes.filter((p) => p.qps === high).length, 2, 'the lowest failing rate probed twice');
    const last = r.probes[r.probes.length - 1] as SearchProbe;
    assert.ok(r.probes.slice(0, -1).some((p) => p.qps === last.qps), 'the search ends on a confirming probe');
    assert.ok(r.probes.length <= 12, `${r.probes.length} probes`);
    assert.match(r.note, /both ends confirmed/);
    // A spent budget leaves the bracket unconfirmed, and says so.
    const short = await searchMaxRate(confirming({ maxProbes: 8 }), async (qps) => mm1(capacity, qps));
    assert.equal(short.confirmed, false);
    // …in the run summary's line too, as the README says (a fresh-user tryout found it missing there).
    const lines = searchSummaryLines([{ ...short, dataplane: 'sidecar', placement: 'cross-node', loadPoint: { qps: 1000, connections: 16, payloadBytes: 0, keepAlive: true, protocol: 'http' }, config: confirming({ maxProbes: 8 }) }]);
    assert.equal(short.outcome, 'budget');
    assert.match(lines[2] as string, /probe budget reached \(8 probes\), an end not confirmed\)$/);
  });

  it('a clear fail that was noise (a stall the fingerprint missed) is overturned by the confirmation, and the search goes on past it', async () => {
    const capacity = 12_000;
    const seen = new Map<number, number>();
    const r = await searchMaxRate(confirming({ fromQps: 1000 }), async (qps) => {
      seen.set(qps, (seen.get(qps) ?? 0) + 1);
      // The first probe at 8000 qps lands on a 40 ms stall: far outside the close band, and not flagged noisy.
      if (qps === 8000 && seen.get(qps) === 1) return { ...mm1(capacity, qps), p99Us: 40_000 };
      return mm1(capacity, qps);
    });
    assert.deepEqual(r.probes.slice(0, 4).map((p) => `${p.qps}:${p.verdict}:${p.provisional}`), ['1000:pass:false', '2000:pass:false', '4000:pass:false', '8000:fail:false']);
    assert.equal(r.probes.filter((p) => p.qps === 8000).length, 3, 'the false fail, its confirmation (a pass), and the third that decides');
    assert.ok(r.maxQps !== null && r.maxQps >= 8000 && r.maxQps <= trueMax(capacity), `${r.maxQps}: the stall did not set the answer`);
    assert.ok(r.probes.length <= 12, `${r.probes.length} probes`);
    // Without confirmation the same stall ends the search below 8000.
    const seenOld = new Map<number, number>();
    const old = await searchMaxRate(config({ fromQps: 1000 }), async (qps) => {
      seenOld.set(qps, (seenOld.get(qps) ?? 0) + 1);
      return qps === 8000 && seenOld.get(qps) === 1 ? { ...mm1(capacity, qps), p99Us: 40_000 } : mm1(capacity, qps);
    });
    assert.ok(old.maxQps !== null && old.maxQps < 8000, `${old.maxQps}`);
  });

  it('a rate decided by three probes takes their median P99 and median error share; a fail under noise is inconclusive, on errors too', () => {
    const at = (p99Us: number, errors = 0): SearchProbe => {
      const m = { ...mm1(100_000, 1000), p99Us, errors, requests: 10_000 };
      return { ...m, probe: 1, qps: 1000, ...judgeProbe(m, config().objective, defaultCloseMargin) };
    };
    assert.equal(medianVerdict([at(4000), at(9000), at(4900)], config().objective), 'pass', 'median 4.9 ms');
    assert.equal(medianVerdict([at(5100), at(2000), at(9000)], config().objective), 'fail', 'median 5.1 ms');
    assert.equal(medianVerdict([at(1000, 50), at(1000, 0), at(1000, 20)], config().objective), 'fail', 'median error share 0.2 %');
    assert.equal(rateVerdict([at(4900), at(5100), at(4000)], false, config().objective), 'pass');
    assert.equal(rateVerdict([at(5500), at(4800), at(5200)], false, config().objective), 'fail');
    const overloaded = { ...mm1(10_000, 12_000), noisy: true };
    assert.equal(judgeProbe(overloaded, config().objective, defaultCloseMargin).noisyFail, true, 'a backlog under noise is inconclusive too: the load client and server lost CPU as well');
    assert.equal(judgeProbe({ ...overloaded, noisy: false }, config().objective, defaultCloseMargin).noisyFail, false, 'on a quiet machine it is the data plane\'s');
    assert.equal(judgeProbe({ ...overloaded, requests: 0, errors: 0 }, config().objective, defaultCloseMargin).noisyFail, false, 'no request recorded: broken, not noisy');
  });

  it('on a noisy synthetic machine (P99 ×e^(0.15·N), one probe in six stalled ×4), two searches agree within 15 % in at least 45 of 50 seeded pairs, each within 12 probes', async () => {
    const capacity = 11_000;
    const search = (seed: number): Promise<ReturnType<typeof searchResult>> => {
      const random = seededRandom(seed);
      return searchMaxRate(confirming({ resolution: 0.1, fromQps: 1000 }), async (qps) => {
        const stalled = random() < 1 / 6;
        return { ...mm1(capacity, qps, Math.exp(0.15 * gaussian(random)) * (stalled ? 4 : 1)), noisy: stalled || random() < 0.5 };
      });
    };
    let agree = 0;
    for (let pair = 0; pair < 50; pair += 1) {
      const [a, b] = [await search(100 + pair), await search(500 + pair)];
      assert.ok(a.probes.length <= 12 && b.probes.length <= 12);
      if (a.maxQps !== null && b.maxQps !== null && Math.abs(a.maxQps - b.maxQps) / Math.max(a.maxQps, b.maxQps) <= 0.15) agree += 1;
    }
    assert.ok(agree >= 45, `${agree} of 50 pairs agree within 15 %`);
  });

  it('the search lines write durations and shares as the reports do: "P99 ≤ 5.00 ms, errors ≤ 0.10 %"', async () => {
    const r = await searchMaxRate(confirming({ fromQps: 1000 }), async (qps) => mm1(12_000, qps));
    const lines = searchSummaryLines([{ ...r, dataplane: 'baseline', placement: 'cross-node', loadPoint: { qps: 1000, connections: 16, payloadBytes: 0, keepAlive: true, protocol: 'http' }, config: confirming({ fromQps: 1000 }) }]);
    assert.equal(lines[1], 'max rate meeting P99 ≤ 5.00 ms, errors ≤ 0.10 % (open loop, c16, 1000–200000 qps, at most 12 probes)');
    assert.match(lines[2] as string, /^ {2}baseline cross-node: \d+ qps \(known within \[\d+, \d+\) qps; converged in \d+ probes, both ends confirmed\)$/);
    assert.match(r.probes[0]?.reason ?? '', /^P99 [\d.]+ µs ≤ 5\.00 ms, errors 0\.00 % ≤ 0\.10 %$/);
  });

  it('reads load.search from a profile; bad values get one clear line', () => {
    const p = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: {p99: 5ms, errors: 0.1%, from: 500, to: 200000}}\n', 't.yaml');
    const c = rateSearchConfig(p.load.search as NonNullable<typeof p.load.search>);
    assert.deepEqual(c.objective, { p99Us: 5000, errorShare: 0.001 });
    assert.equal(c.maxProbes, 12);
    assert.equal(c.resolution, 0.05);
    assert.equal(c.minRequests, 10_000, '100 ÷ (1 − 0.99) by default');
    assert.equal(c.confirmBounds, true);
    const bad = (search: string, re: RegExp): void => {
      assert.throws(() => parseProfile(`name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: ${search}}\n`, 't.yaml'), (e: Error) => {
        assert.equal(e.message.split('\n').length, 1);
        assert.match(e.message, re);
        return true;
      });
    };
    bad('{p99: fast}', /^t\.yaml: load\.search\.p99: expected a duration like 10s/);
    bad('{p99: 0ms}', /load\.search\.p99: expected a latency above 0/);
    bad('{errors: 0.1}', /load\.search\.errors: expected a percent like "5%", received number \(got 0\.1\)/);
    bad('{errors: "150%"}', /load\.search\.errors: expected a percent of at most 100%/);
    bad('{from: 500}', /load\.search: expected an objective: p99, errors, or both/);
    bad('{p99: 5ms, from: 5000, to: 500}', /load\.search: expected from below to/);
    bad('{p99: 5ms, from: -1}', /load\.search\.from: .*>0/);
    bad('{p99: 5ms, maxProbes: 100}', /load\.search\.maxProbes: .*<=50/);
    bad('{p99: 5ms, p95: 3ms}', /load\.search: unknown key "p95"/);
    bad('{p99: 5ms, minRequests: -1}', /load\.search\.minRequests: .*>=0/);
    bad('{p99: 5ms, quiet: {wait: 0s}}', /load\.search\.quiet\.wait: expected a wait of at least 1s/);
    bad('{p99: 5ms, quiet: {below: 30}}', /load\.search\.quiet\.below: expected a percent/);
    const q = parseProfile('name: t\ndataplanes: [baseline]\nduration: 2s\nload: {search: {p99: 5ms, quiet: {}}}\n', 't.yaml');
    assert.deepEqual(q.load.search?.quiet, { below: '30%', wait: '20s' }, 'quiet: {} waits up to 20 s for the machine to fall to 30 % busy');
    assert.equal(p.load.search?.quiet, undefined, 'no quiet: no wait');
  });
});
