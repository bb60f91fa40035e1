import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { parseControlsOrBadInput } from '../../harness/commands/echoCommand';
import { BadInputError } from '../../harness/errors';
import { parseControls, serverControlsProblem } from '../../workloads/echoControls';
import { parseGrpcControls } from '../../workloads/grpcEchoServer';
import { listenOn } from '../../workloads/serverListen';

describe('meshbench echo: default controls', () => {
  it('turns a control syntax error of either parser into one BadInputError line, and lets other errors through', () => {
    assert.deepEqual(parseControlsOrBadInput(parseControls, 'size=16').sizeBytes, [{ value: 16, percent: 100 }]);
    assert.throws(() => parseControlsOrBadInput(parseControls, 'size=abc'), (e: unknown) => e instanceof BadInputError && /^bad echo control: size: /.test(e.message));
    assert.throws(() => parseControlsOrBadInput(parseGrpcControls, 'grpc-status=bogus'), (e: unknown) => e instanceof BadInputError && /^bad echo control: grpc-status: /.test(e.message));
    assert.throws(() => parseControlsOrBadInput(() => { throw new RangeError('not ours'); }, ''), RangeError);
  });

  it('checks a server default strictly: an unknown key or a key without a value is refused, unlike in a request', () => {
    assert.match(serverControlsProblem('nonsense=1') ?? '', /^unknown control "nonsense": expected delay, status, size/);
    assert.match(serverControlsProblem('burn') ?? '', /needs a value/);
    assert.match(serverControlsProblem('burn=') ?? '', /control "burn" needs a value/);
    assert.match(serverControlsProblem('burn=&copies=') ?? '', /control "burn" needs a value/);
    assert.match(serverControlsProblem('burn=10us&burn=20us') ?? '', /control "burn" is given twice/);
    assert.match(serverControlsProblem('size=abc') ?? '', /^size: /);
    assert.equal(serverControlsProblem('size=1024&burn=200us&grpc-status=0'), undefined);
    assert.equal(serverControlsProblem(''), undefined);
    // A request's query string still ignores unknown keys, as fortio does.
    assert.deepEqual(parseControls('nonsense=1&size=8').sizeBytes, [{ value: 8, percent: 100 }]);
  });
});

describe('listenOn: how the HTTP/2 and gRPC echo servers listen', () => {
  it('resolves with the bound address, and rejects with EADDRINUSE on a taken port (the echo command names it)', async () => {
    const a = net.createServer();
    const b = http2.createServer();
    try {
      const addr = await listenOn(a, '127.0.0.1', 0);
      assert.ok(addr.port > 0);
      await assert.rejects(listenOn(b, '127.0.0.1', addr.port), (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE');
    } finally {
      await new Promise<void>((r) => a.close(() => r()));
      b.close();
    }
  });
});
