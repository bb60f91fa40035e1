import assert from 'node:assert/strict';
import { procStatBusyUs, waitForQuiet, type QuietGateDeps } from '../../harness/runner/quietGate';

/** A fake 2-CPU machine whose busy share over each 1 s sample follows `shares`; time moves only when the gate sleeps. */
function fakeMachine(shares: readonly number[]): QuietGateDeps & { samples: () => number } {
  let nowUs = 0;
  let busyUs = 0;
  let sample = 0;
  return {
    cpus: 2,
    nowUs: () => nowUs,
    busyCpuUs: () => busyUs,
    sleepUs: async (us) => {
      busyUs += (shares[Math.min(sample, shares.length - 1)] as number) * us * 2;
      sample += 1;
      nowUs += us;
    },
    samples: () => sample,
  };
}

describe('quiet gate (wait for other work on the machine to pass before a search probe)', () => {
  const settings = { belowShare: 0.3, maxWaitUs: 20_000_000, sampleUs: 1_000_000 };

  it('a quiet machine: one 1 s sample, then the probe', async () => {
    const m = fakeMachine([0.05]);
    assert.deepEqual(await waitForQuiet(settings, m), { waitedUs: 1_000_000, busyShare: 0.05, quiet: true });
    assert.equal(m.samples(), 1);
  });

  it('a compile that ends after 4 s: waits for the first quiet sample', async () => {
    const m = fakeMachine([0.95, 0.9, 0.6, 0.5, 0.2]);
    const w = await waitForQuiet(settings, m);
    assert.deepEqual(w, { waitedUs: 5_000_000, busyShare: 0.2, quiet: true });
  });

  it('a machine that never quiets: the wait is bounded, and says so', async () => {
    const m = fakeMachine([0.9]);
    const w = await waitForQuiet(settings, m);
    assert.equal(w?.quiet, false);
    assert.equal(w?.waitedUs, 20_000_000);
    assert.ok(Math.abs((w?.busyShare ?? 0) - 0.9) < 1e-9);
  });

  it('off (wait 0): no sample at all; an aborted run stops waiting at once', async () => {
    const m = fakeMachine([0.9]);
    assert.equal(await waitForQuiet({ ...settings, maxWaitUs: 0 }, m), null);
    assert.equal(m.samples(), 0);
    const stopped = await waitForQuiet(settings, { ...fakeMachine([0.9]), aborted: () => true });
    assert.deepEqual([stopped?.quiet, stopped?.waitedUs], [false, 1_000_000]);
  });

  it('reads this machine\'s /proc/stat: busy CPU only grows', function () {
    if (process.platform !== 'linux') this.skip();
    const a = procStatBusyUs();
    let x = 0;
    for (let i = 0; i < 2e6; i += 1) x += i;
    assert.ok(x > 0 && procStatBusyUs() >= a && a > 0);
  });
});
