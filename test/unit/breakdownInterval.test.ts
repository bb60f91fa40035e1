import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { breakdownUncertainty, poisson, quantileSorted, seededRandom, type BreakdownPair } from '../../harness/attribution/breakdownInterval';
import type { StepCosts } from '../../harness/attribution/overheadBreakdown';
import { summarise } from '../../harness/results/summarise';
import { formatSummaryText } from '../../harness/results/summaryText';
import type { StepRecord } from '../../harness/results/resultTypes';
import { syntheticRun } from '../helpers/syntheticRun';

const k = (f: string): string => `${f}_[k]`;

/** A client and a server with `n` samples each, split between user space, the network stack and copying. */
function costs(clientUs: number, serverUs: number, n: number, proxy?: { us: number; n: number }): StepCosts {
  const folded = (m: number): string => `node;[node] ${Math.round(m * 0.6)}\nnode;${k('tcp_sendmsg')} ${Math.round(m * 0.3)}\nnode;${k('tcp_recvmsg')};${k('_copy_to_iter')} ${Math.round(m * 0.1)}\n`;
  const out: Record<string, StepCosts[string]> = {
    client: { role: 'client', cpuUsPerRequest: clientUs, foldedStacks: folded(n), figures: null },
    server: { role: 'server', cpuUsPerRequest: serverUs, foldedStacks: folded(n), figures: null },
  };
  if (proxy !== undefined) out.proxy = { role: 'proxy', cpuUsPerRequest: proxy.us, foldedStacks: `haproxy;[haproxy] ${proxy.n}\n`, figures: null };
  return out;
}

describe('breakdown uncertainty (bootstrap)', () => {
  it('is reproducible from the seed and changes with it', () => {
    const pairs: BreakdownPair[] = [{ step: costs(250, 80, 600, { us: 100, n: 300 }), baseline: costs(240, 76, 600) }];
    const a = breakdownUncertainty(pairs, seededRandom(1), 300);
    const b = breakdownUncertainty(pairs, seededRandom(1), 300);
    const c = breakdownUncertainty(pairs, seededRandom(2), 300);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.extraCpuIntervalUs, c.extraCpuIntervalUs);
  });

  it('gives a share when the extra CPU is clear of noise, and "within noise" when it is not', () => {
    const proxy = breakdownUncertainty([{ step: costs(250, 80, 600, { us: 100, n: 300 }), baseline: costs(240, 76, 600) }], seededRandom(7));
    assert.ok(proxy.extraCpuIntervalUs.low > 0, JSON.stringify(proxy.extraCpuIntervalUs));
    assert.ok(proxy.explainedShare !== null && proxy.explainedShare > 0.8 && proxy.explainedShare <= 1);
    assert.ok(proxy.byCategoryIntervalUs['proxy-userspace'].low > 50 && proxy.byCategoryIntervalUs['proxy-userspace'].high < 150);
    // The kernel data plane's case: a few µs of difference between two single runs of ~330 µs.
    const tiny = breakdownUncertainty([{ step: costs(252, 79, 600), baseline: costs(243, 76, 600) }], seededRandom(7));
    assert.ok(tiny.extraCpuIntervalUs.low < 0 && tiny.extraCpuIntervalUs.high > 0, JSON.stringify(tiny.extraCpuIntervalUs));
    assert.equal(tiny.explainedShare, null);
    assert.equal(tiny.explainedShareInterval, null);
  });

  it('narrows with more samples and resamples repetitions', () => {
    const width = (u: ReturnType<typeof breakdownUncertainty>): number => u.extraCpuIntervalUs.high - u.extraCpuIntervalUs.low;
    const few = breakdownUncertainty([{ step: costs(250, 80, 200, { us: 100, n: 100 }), baseline: costs(240, 76, 200) }], seededRandom(3));
    const many = breakdownUncertainty([{ step: costs(250, 80, 20000, { us: 100, n: 10000 }), baseline: costs(240, 76, 20000) }], seededRandom(3));
    assert.ok(width(many) < width(few) / 5, `${width(many)} vs ${width(few)}`);
    const spreadReps = breakdownUncertainty([
      { step: costs(250, 80, 20000, { us: 60, n: 6000 }), baseline: costs(240, 76, 20000) },
      { step: costs(250, 80, 20000, { us: 140, n: 14000 }), baseline: costs(240, 76, 20000) },
    ], seededRandom(3));
    assert.ok(width(spreadReps) > 40, 'two repetitions 80 µs apart widen the interval');
    assert.ok(Math.abs(spreadReps.byCategoryUs['proxy-userspace'] - 100) < 1e-9, 'the estimate is the mean of repetitions');
  });

  it('draws Poisson counts with the right mean and variance, and quantiles like R type 7', () => {
    const r = seededRandom(11);
    for (const lambda of [3, 200]) {
      const xs = Array.from({ length: 20000 }, () => poisson(lambda, r));
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
      assert.ok(Math.abs(mean - lambda) < 0.05 * lambda, `mean ${mean}`);
      assert.ok(Math.abs(variance - lambda) < 0.1 * lambda, `variance ${variance}`);
    }
    assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantileSorted([10, 20, 30, 40, 50], 0.25), 20);
  });

  it('never prints a share outside 0–100 % (issue 14: "explained 2045 %" on the kernel data plane)', () => {
    const random = seededRandom(2024);
    for (let i = 0; i < 40; i += 1) {
      const run = syntheticRun({ runId: `f${i}`, seed: 100 + i, dataplanes: ['baseline', 'sidecar', 'kernel'], repetitions: 1 + (i % 3), sidecarExtraUs: (random() - 0.3) * 40 });
      const text = formatSummaryText(summarise(`f${i}`, 'complete', run.steps));
      for (const m of text.matchAll(/(-?\d+)%/g)) {
        const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index));
        if (!/explained|unexplained/.test(line)) continue;
        const v = Number(m[1]);
        assert.ok(v >= 0 && v <= 100, `${v}% in: ${line}`);
      }
    }
  });

  it('the kernel data plane of a real quick run: "n/a (within noise)"', () => {
    // The baseline and kernel steps of the quick run the rule fixtures come from (histograms and probe detail stripped).
    const file = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stacks', 'quick-kernel-steps.json.gz');
    const steps = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8')) as StepRecord[];
    const text = formatSummaryText(summarise('q', 'complete', steps));
    assert.match(text, /kernel: extra CPU .* holds 0 in its 95% interval: explained share n\/a \(within noise\)/);
    assert.match(text, /^explained\s+n\/a \(within noise\)/m);
  });
});
