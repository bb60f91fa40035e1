import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot, type PingMessage } from '../../workloads/grpcProto';

/*
 * The reference for the gRPC section of bench:workloads: a plain @grpc/grpc-js client loop, the way a
 * Node user would load a gRPC server without meshbench. `node grpcJsLoop.js HOST:PORT CONNECTIONS STREAMS
 * SECONDS` runs CONNECTIONS channels (each its own subchannel pool, so its own TCP connection, as
 * fortio dials once per -s streams) with STREAMS calls in flight on each (closed loop: a call is made the
 * moment the previous one of its stream returns) to fgrpc.PingServer/Ping for SECONDS, after a one-second
 * warm-up; prints {"callsPerSecond": …, "calls": …, "errors": …} on stdout.
 */

type PingClient = grpc.Client & { Ping(m: PingMessage, cb: (e: grpc.ServiceError | null) => void): void };

async function main(): Promise<void> {
  const [target, connectionsText, streamsText, secondsText] = process.argv.slice(2);
  if (target === undefined || secondsText === undefined) throw new Error('usage: grpcJsLoop HOST:PORT CONNECTIONS STREAMS SECONDS');
  const connections = Number(connectionsText);
  const streams = Number(streamsText);
  const seconds = Number(secondsText);
  const def = protoLoader.fromJSON(protoRoot().toJSON(), { keepCase: true, longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { fgrpc: { PingServer: new (t: string, c: grpc.ChannelCredentials, o: object) => PingClient } };
  const clients = Array.from({ length: connections }, () => new pkg.fgrpc.PingServer(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const message: PingMessage = { seq: 0, ts: 0, payload: '', delayNanos: 0 };
  let calls = 0;
  let errors = 0;
  let measuring = false;
  let stop = false;
  const loops: Promise<void>[] = [];
  for (const client of clients) {
    for (let s = 0; s < streams; s += 1) {
      loops.push(new Promise<void>((resolve) => {
        const next = (): void => {
          if (stop) { resolve(); return; }
          client.Ping(message, (err) => {
            if (measuring) { if (err === null) calls += 1; else errors += 1; }
            next();
          });
        };
        next();
      }));
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  stop = true;
  await Promise.all(loops);
  for (const c of clients) c.close();
  console.log(JSON.stringify({ callsPerSecond: calls / elapsed, calls, errors }));
}

main().catch((err: unknown) => {
  console.error(`grpcJsLoop: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
