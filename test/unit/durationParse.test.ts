import assert from 'node:assert/strict';
import { formatDurationUs, parseDurationUs } from '../../workloads/durationParse';

describe('parseDurationUs', () => {
  it('reads Go-style units into microseconds', () => {
    assert.equal(parseDurationUs('250us'), 250);
    assert.equal(parseDurationUs('5ms'), 5000);
    assert.equal(parseDurationUs('1.5s'), 1_500_000);
    assert.equal(parseDurationUs('1m30s'), 90_000_000);
    assert.equal(parseDurationUs('500ns'), 0.5);
  });
  it('reads a bare number in the given unit', () => {
    assert.equal(parseDurationUs('10'), 10_000_000);
    assert.equal(parseDurationUs('5', 'ms'), 5000);
  });
  it('rejects what is not a duration', () => {
    for (const bad of ['', 'abc', '5 parsecs', '5ms!', '-1s', 'ms']) assert.equal(parseDurationUs(bad), undefined, bad);
  });
  it('formats back', () => {
    assert.equal(formatDurationUs(1500), '1.5ms');
    assert.equal(formatDurationUs(10_000_000), '10s');
    assert.equal(formatDurationUs(42), '42us');
  });
});
