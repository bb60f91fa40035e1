import assert from 'node:assert/strict';
import { blockIsStateless, encodeRequestBlock, HpackDecoder, quickStatus } from '../../workloads/h2Framing';

describe('HTTP/2 framing pieces (RFC 9113, RFC 7541)', () => {
  it('encodes a request block any HPACK decoder reads back, without touching the dynamic table', () => {
    const headers: Array<[string, string]> = [[':method', 'GET'], [':path', '/echo?delay=1ms'], [':scheme', 'http'], [':authority', '127.0.0.1:8080'], ['user-agent', 'meshbench'], ['x-long', 'v'.repeat(300)]];
    const block = encodeRequestBlock(headers);
    assert.deepEqual(new HpackDecoder().decode(block).map((h) => [h.name, h.value]), headers);
    assert.equal(blockIsStateless(block), true);
    assert.equal(block[0], 0x82, ':method GET is static index 2');
  });

  it('tells blocks that change the table from those that do not, and reads static statuses at once', () => {
    // nginx's 200: :status indexed, then `server` and `date` literals with incremental indexing (0x76, 0x61…)
    const nginx = Buffer.from('887689aa6355e580ae212e1f6196dd6d5f4a09f5349fba82009c502d5c102e32da98b46f5f901d75d0620d263d4c1c892a56426c28e95c023133', 'hex');
    assert.equal(blockIsStateless(nginx), false);
    assert.equal(quickStatus(nginx), 200);
    const d = new HpackDecoder();
    const fields = d.decode(nginx);
    assert.deepEqual([fields[0]?.name, fields[0]?.value], [':status', '200']);
    assert.equal(fields.find((f) => f.name === 'server')?.value, 'nginx/1.22.1');
    assert.equal(blockIsStateless(Buffer.from([0x8d])), true);
    assert.equal(quickStatus(Buffer.from([0x8d])), 404);
    assert.equal(quickStatus(Buffer.from([0x48, 3, 0x35, 0x30, 0x33])), undefined, 'a literal status is decoded in full');
    assert.equal(blockIsStateless(Buffer.from([0x20])), false, 'a table size update changes the table');
    assert.equal(blockIsStateless(Buffer.from([0x0f])), undefined, 'a cut-short integer is malformed');
  });

  it('keeps the dynamic table across blocks: an indexed status refers to the entry an earlier block added', () => {
    const d = new HpackDecoder();
    const pairs = (block: number[]): string[][] => d.decode(Buffer.from(block)).map((h) => [h.name, h.value]);
    assert.deepEqual(pairs([0x48, 3, 0x35, 0x30, 0x33]), [[':status', '503']]);
    assert.deepEqual(pairs([0xbe]), [[':status', '503']]);
    assert.throws(() => d.decode(Buffer.from([0xff, 0x7f])));
  });
});
