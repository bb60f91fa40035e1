import assert from 'node:assert/strict';
import { ControlSyntaxError, parseControls, pickWeighted, resolveReply } from '../../workloads/echoControls';

describe('echo controls (fortio syntax)', () => {
  it('parses delay, status, size and close with probabilities', () => {
    const c = parseControls('delay=5ms:10,250us:20&status=503:5&size=1024&close=true&other=1');
    assert.deepEqual(c.delayUs, [{ value: 5000, percent: 10 }, { value: 250, percent: 20 }]);
    assert.deepEqual(c.status, [{ value: 503, percent: 5 }]);
    assert.deepEqual(c.sizeBytes, [{ value: 1024, percent: 100 }]);
    assert.equal(c.closePercent, 100);
  });
  it('keeps server defaults for keys the query does not set', () => {
    const defaults = parseControls('delay=1ms&size=64');
    const c = parseControls('size=8', defaults);
    assert.deepEqual(c.delayUs, [{ value: 1000, percent: 100 }]);
    assert.deepEqual(c.sizeBytes, [{ value: 8, percent: 100 }]);
  });
  it('rejects bad values with a message naming the key', () => {
    assert.throws(() => parseControls('delay=5ms:200'), (e: unknown) => e instanceof ControlSyntaxError && /delay/.test(e.message));
    assert.throws(() => parseControls('status=999'), ControlSyntaxError);
    assert.throws(() => parseControls('size=-1'), ControlSyntaxError);
    assert.throws(() => parseControls('delay=1ms:60,2ms:60'), /more than 100%/);
    assert.throws(() => parseControls('close=maybe'), ControlSyntaxError);
    // The limits are named, as the README states them (a fresh-user tryout found only "not a valid value").
    assert.throws(() => parseControls('burn=5s'), (e: unknown) => e instanceof ControlSyntaxError && e.message === 'burn: "5s" is not a valid value (expected a duration up to 1s, like 200us)');
    assert.throws(() => parseControls('connects=1001'), (e: unknown) => e instanceof ControlSyntaxError && e.message === 'connects: "1001" is not a valid value (expected a whole number up to 1000)');
  });
  it('picks by cumulative percent like fortio', () => {
    const choices = [{ value: 'a', percent: 10 }, { value: 'b', percent: 20 }];
    assert.equal(pickWeighted(choices, () => 0.05), 'a');
    assert.equal(pickWeighted(choices, () => 0.1), 'b');
    assert.equal(pickWeighted(choices, () => 0.29), 'b');
    assert.equal(pickWeighted(choices, () => 0.3), undefined);
  });
  it('resolves a reply with defaults of 200, no delay, echo body, keep-alive', () => {
    assert.deepEqual(resolveReply(parseControls(''), () => 0.5), {
      delayUs: 0, status: 200, sizeBytes: undefined, close: false, burnUs: 0, copies: 0, connects: 0, switches: 0,
    });
    const r = resolveReply(parseControls('status=503:50&close=50'), () => 0.2);
    assert.equal(r.status, 503);
    assert.equal(r.close, true);
  });
  it('parses the calibration controls with the same value:percent lists', () => {
    const c = parseControls('burn=200us&copies=2:50&connects=1&switches=10');
    assert.deepEqual(c.burnUs, [{ value: 200, percent: 100 }]);
    assert.deepEqual(c.copies, [{ value: 2, percent: 50 }]);
    assert.deepEqual(c.connects, [{ value: 1, percent: 100 }]);
    assert.deepEqual(c.switches, [{ value: 10, percent: 100 }]);
    assert.deepEqual(parseControls('burn=150').burnUs, [{ value: 150, percent: 100 }]); // a bare number is µs
    assert.deepEqual(parseControls('burn=1ms').burnUs, [{ value: 1000, percent: 100 }]);
    const r = resolveReply(parseControls('burn=200us&copies=2:50&connects=1&switches=10'), () => 0.2);
    assert.deepEqual([r.burnUs, r.copies, r.connects, r.switches], [200, 2, 1, 10]);
    assert.equal(resolveReply(parseControls('copies=2:50'), () => 0.7).copies, 0);
  });
  it('rejects bad calibration values with a message naming the key', () => {
    for (const q of ['burn=2s', 'burn=fast', 'copies=-1', 'copies=1.5', 'connects=1001', 'switches=x']) {
      const key = q.split('=')[0] as string;
      assert.throws(() => parseControls(q), (e: unknown) => e instanceof ControlSyntaxError && e.message.startsWith(key), q);
    }
  });
  it('turns a malformed percent-escape into a ControlSyntaxError, not a URIError', () => {
    for (const q of ['delay=%zz', 'size=%', 'status=%E0%A4%A']) {
      assert.throws(() => parseControls(q), (e: unknown) => e instanceof ControlSyntaxError && /malformed percent-escape/.test(e.message), q);
    }
    assert.deepEqual(parseControls('delay=5ms%3A10').delayUs, [{ value: 5000, percent: 10 }]);
  });
});
