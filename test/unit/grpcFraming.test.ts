import assert from 'node:assert/strict';
import { frameGrpcMessage, GrpcMessageCounter } from '../../workloads/grpcFraming';
import { grpcStatusName, parseGrpcStatus } from '../../workloads/grpcStatus';
import { grpcCodeForHttpStatus } from '../../workloads/grpcConnection';
import { decodeHealthStatus, encodePing, protoRoot } from '../../workloads/grpcProto';
import { h2ErrorName, headerListBytes, rstStreamKind } from '../../workloads/h2Connection';
import { seededRandom } from '../../harness/results/stats/seededRandom';

describe('gRPC framing, statuses and HTTP/2 names', () => {
  it('frames a message with the 5-byte prefix and counts messages split anywhere across DATA chunks', () => {
    const a = frameGrpcMessage(Buffer.from('hello'));
    assert.deepEqual([...a.subarray(0, 5)], [0, 0, 0, 0, 5]);
    const empty = frameGrpcMessage(Buffer.alloc(0));
    const stream = Buffer.concat([a, empty, frameGrpcMessage(Buffer.alloc(300, 1)), a]);
    const random = seededRandom(7);
    for (let trial = 0; trial < 200; trial += 1) {
      const c = new GrpcMessageCounter();
      let i = 0;
      while (i < stream.length) {
        const n = 1 + Math.floor(random() * 40);
        assert.equal(c.feed(stream.subarray(i, i + n)), true);
        i += n;
      }
      assert.equal(c.messages, 4);
      assert.equal(c.atBoundary, true);
    }
    const partial = new GrpcMessageCounter();
    partial.feed(a.subarray(0, 7));
    assert.equal(partial.atBoundary, false);
  });

  it('refuses a compressed message nobody asked for and one over the size cap', () => {
    assert.equal(new GrpcMessageCounter().feed(Buffer.from([1, 0, 0, 0, 1, 0])), false);
    assert.equal(new GrpcMessageCounter(10).feed(Buffer.from([0, 0, 0, 0, 11])), false);
  });

  it('names gRPC statuses as fortio and grpc-go print them and reads names or numbers', () => {
    assert.equal(grpcStatusName(0), 'OK');
    assert.equal(grpcStatusName(14), 'UNAVAILABLE');
    assert.equal(grpcStatusName(16), 'UNAUTHENTICATED');
    assert.equal(grpcStatusName(99), 'Code(99)');
    assert.equal(parseGrpcStatus('14'), 14);
    assert.equal(parseGrpcStatus('unavailable'), 14);
    assert.equal(parseGrpcStatus('17'), undefined);
    assert.equal(parseGrpcStatus('NOPE'), undefined);
  });

  it('maps HTTP statuses of non-gRPC answers as gRPC clients do (http-grpc-status-mapping.md)', () => {
    assert.equal(grpcCodeForHttpStatus(503), 14);
    assert.equal(grpcCodeForHttpStatus(404), 12);
    assert.equal(grpcCodeForHttpStatus(401), 16);
    assert.equal(grpcCodeForHttpStatus(418), 2);
  });

  it('names HTTP/2 error codes (RFC 9113 §7) and sizes header lists (RFC 7541 §4.1)', () => {
    assert.equal(h2ErrorName(7), 'REFUSED_STREAM');
    assert.equal(h2ErrorName(0x1f), '0x1f');
    assert.equal(rstStreamKind(8), 'rst-stream:CANCEL');
    assert.equal(headerListBytes({ ':status': '200', a: ['x', 'yy'] }), 7 + 3 + 32 + (1 + 1 + 32) + (1 + 2 + 32));
  });

  it('encodes fortio\'s PingMessage with the vendored ping.proto', () => {
    const bytes = encodePing({ seq: 1, ts: 0, payload: 'ab', delayNanos: 5 });
    // field 1 varint 1, field 2 varint 0 (protobufjs writes a field that is set, even to its default), field 3 "ab", field 4 varint 5
    assert.deepEqual([...bytes], [0x08, 1, 0x10, 0, 0x1a, 2, 0x61, 0x62, 0x20, 5]);
    assert.ok(protoRoot().lookupService('fgrpc.PingServer').methods.Ping);
    assert.equal(decodeHealthStatus(Buffer.from([0x08, 1])), 'SERVING');
  });
});
