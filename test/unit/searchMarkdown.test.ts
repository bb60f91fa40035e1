import assert from 'node:assert/strict';
import { defaultCloseMargin, defaultNoisyShare, judgeProbe, searchResult, type ProbeMeasurement, type RateSearchConfig, type SearchProbe } from '../../harness/runner/rateSearch';
import type { RateSearchSummary } from '../../harness/results/searchSummary';
import { searchSection, verdictLabel } from '../../reports/searchMarkdown';
import { rateSearchChart } from '../../reports/charts/rateSearchChart';

/** The probe table's verdict column: a noisy fail is inconclusive, "close" only within ±closeMargin of a limit. */
const config: RateSearchConfig = {
  objective: { p99Us: 5000, errorShare: 0.001 }, fromQps: 500, toQps: 16_000, maxProbes: 12, resolution: 0.05,
  closeMargin: defaultCloseMargin, factor: 2, maxProbesPerRate: 3, confirmBounds: true, noisyShare: defaultNoisyShare,
};

function probe(n: number, qps: number, m: Partial<ProbeMeasurement>): SearchProbe {
  const full: ProbeMeasurement = { achievedQps: qps, p50Us: 300, p99Us: 1000, maxUs: 2000, requests: 10_000, errors: 0, cpuUsPerRequest: null, stepId: `s${n}`, noisy: false, otherShare: 0.05, stolen: false, ...m };
  return { ...full, probe: n, qps, ...judgeProbe(full, config.objective, config.closeMargin, config.noisyShare) };
}

describe('search probe table (searchMarkdown)', () => {
  // The tryout's probe 6: P99 78× the limit, 28.9 % errors, CPU stolen by the hypervisor.
  const noisyFar = probe(6, 8000, { achievedQps: 5691, p50Us: 295_420, p99Us: 392_960, maxUs: 900_000, requests: 8000, errors: 2309, noisy: true, otherShare: 0.1, stolen: true });
  const quietClose = probe(2, 1000, { p99Us: 5600 });
  const quietFar = probe(3, 2000, { p99Us: 50_000, otherShare: 0.05 });
  const noisyClose = probe(4, 1500, { p99Us: 5400, noisy: true, otherShare: 0.4 });
  const passClose = probe(5, 700, { p99Us: 4500 });
  const passFar = probe(1, 500, { p99Us: 1000 });

  it('labels a noisy fail far from its limit inconclusive, not close (the runner still repeats it)', () => {
    assert.equal(noisyFar.provisional, true, 'judgeProbe marks it for a repeat');
    assert.equal(noisyFar.noisyFail, true);
    assert.equal(verdictLabel(noisyFar, config), 'fail (noisy, inconclusive)');
  });
  it('calls a probe close only within ±25 % of a limit', () => {
    assert.equal(verdictLabel(quietClose, config), 'fail (close)');
    assert.equal(verdictLabel(quietFar, config), 'fail');
    assert.equal(verdictLabel(noisyClose, config), 'fail (close; noisy, inconclusive)');
    assert.equal(verdictLabel(passClose, config), 'pass (close)');
    assert.equal(verdictLabel(passFar, config), 'pass');
  });
  it('writes the labels into the table and explains noisy fails on P99 or errors', () => {
    const probes = [passFar, quietClose, quietFar, noisyClose, passClose, noisyFar];
    const s: RateSearchSummary = { dataplane: 'baseline', placement: 'same-node', loadPoint: { qps: 500, connections: 8, payloadBytes: 64, keepAlive: true, protocol: 'http' }, config, ...searchResult(config, probes) };
    const text = searchSection([s]).join('\n');
    const row = text.split('\n').find((l) => l.startsWith('| 6 | 8000 |')) ?? '';
    assert.match(row, /\| fail \(noisy, inconclusive\): P99 392\.96 ms > 5\.00 ms, errors 28\.9 % > 0\.10 % ⚠ noisy \|$/);
    assert.doesNotMatch(row, /close/);
    assert.match(text, /\| 3 \| 2000 \|.*\| fail: P99 50\.00 ms > 5\.00 ms \|$/m);
    assert.match(text, /a fail \(on P99 or on errors\) while other work used more than 25 % of the machine or the hypervisor stole CPU is inconclusive/);
    assert.doesNotMatch(text, /a fail on P99 while/);
  });
  it('shows a probe that recorded no request with no latency (—), fails it as such, and leaves it out of the latency chart', () => {
    const empty = probe(2, 16_000, { achievedQps: 0, p50Us: null, p99Us: null, maxUs: null, requests: 0, errors: 0 });
    assert.equal(empty.verdict, 'fail');
    assert.match(empty.reason, /^no request recorded/);
    const s: RateSearchSummary = { dataplane: 'baseline', placement: 'same-node', loadPoint: { qps: 500, connections: 8, payloadBytes: 64, keepAlive: true, protocol: 'http' }, config, ...searchResult(config, [passFar, empty]) };
    const row = searchSection([s]).join('\n').split('\n').find((l) => l.startsWith('| 2 | 16000 |')) ?? '';
    assert.match(row, /^\| 2 \| 16000 \| 0 \| — \| — \| — \| 0 \(/);
    const chart = JSON.stringify(rateSearchChart([s]));
    assert.equal((chart.match(/"qps":16000,"percentile"/g) ?? []).length, 0, 'no latency point for the empty probe');
    assert.ok((chart.match(/"qps":500,"percentile"/g) ?? []).length >= 3, 'P50, P99 and max of the passing probe');
  });
});
