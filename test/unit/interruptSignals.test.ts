import assert from 'node:assert/strict';
import { forcedAfterMs, InterruptSignals } from '../../harness/commands/interruptSignals';

describe('meshbench run: one interrupt delivered twice is not a forced exit', () => {
  const clocked = (): { signals: InterruptSignals; at: (ms: number) => void } => {
    let now = 1000;
    return { signals: new InterruptSignals(() => now), at: (ms) => { now = 1000 + ms; } };
  };

  it('coreutils timeout (the command, then its group) within forcedAfterMs: stop once, the repeat ignored, cleanup runs', () => {
    const c = clocked();
    assert.equal(c.signals.next(), 'stop');
    c.at(0.05);
    assert.equal(c.signals.next(), 'repeat', 'the group copy of the same SIGINT, 50 µs later');
    c.at(forcedAfterMs - 1);
    assert.equal(c.signals.next(), 'repeat', 'still the same interrupt just under the limit');
  });

  it('a person\'s second Ctrl-C (forcedAfterMs or later after the first) forces the exit', () => {
    const c = clocked();
    assert.equal(c.signals.next(), 'stop');
    c.at(forcedAfterMs);
    assert.equal(c.signals.next(), 'force');
    c.at(forcedAfterMs + 3000);
    assert.equal(c.signals.next(), 'force');
  });

  it('measures from the first signal, not from the repeats: repeats do not push the force limit out', () => {
    const c = clocked();
    c.signals.next();
    c.at(400);
    assert.equal(c.signals.next(), 'repeat');
    c.at(forcedAfterMs + 10);
    assert.equal(c.signals.next(), 'force');
  });
});
