import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { monotonicClock, type Clock, type TimerApi } from './clock';
import { DeadlineQueue } from './deadlineQueue';
import { ControlSyntaxError, noControls, parseWeightedList, pickWeighted, resolveReply, type EchoControls, type Weighted } from './echoControls';
import type { EchoServerStats } from './echoServer';
import { emptyEchoStats, ReplyWork } from './echoWork';
import { frameGrpcMessage } from './grpcFraming';
import { protoRoot, type PingMessage } from './grpcProto';
import { grpcStatusName, parseGrpcStatus } from './grpcStatus';
import { controlsFromHeaders, type EchoTls } from './h2EchoServer';
import { PreciseTimers } from './preciseTimers';
import { listenOn } from './serverListen';

/** The gRPC-only controls: a status drawn per call, and how many replies a streaming call gets. */
export interface GrpcControls {
  /** `grpc-status=14:10`: UNAVAILABLE on 10 % of calls (codes as numbers or names, fortio's value:percent lists). */
  readonly grpcStatus: readonly Weighted<number>[];
  /** `messages=N`: replies of a streaming Ping (default 1, at most 100 000). */
  readonly messages: readonly Weighted<number>[];
}

export const noGrpcControls: GrpcControls = { grpcStatus: [], messages: [] };

const parseMessages = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 100_000 ? Number(s) : undefined);

/**
 * Reads `grpc-status` and `messages` from a control query string ("grpc-status=14:10&delay=1ms"; other keys
 * are left to parseControls). Throws ControlSyntaxError naming the key.
 */
export function parseGrpcControls(query: string, defaults: GrpcControls = noGrpcControls): GrpcControls {
  let { grpcStatus, messages } = defaults;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const key = pair.slice(0, eq);
    const value = decodeURIComponent(pair.slice(eq + 1));
    if (key === 'grpc-status') grpcStatus = parseWeightedList('grpc-status', value, parseGrpcStatus);
    else if (key === 'messages') messages = parseWeightedList('messages', value, parseMessages);
  }
  return { grpcStatus, messages };
}

/**
 * Why a control cannot be a default of the gRPC echo, or undefined: `status` is an HTTP status (gRPC's is
 * `grpc-status`), and `close` needs a hold on the connection a grpc-js handler does not have.
 */
export function grpcControlProblem(controls: EchoControls): string | undefined {
  if (controls.status.length > 0) return 'status= is an HTTP status; a gRPC server answers with grpc-status=CODE[:percent] (e.g. grpc-status=UNAVAILABLE:10)';
  if (controls.closePercent > 0) return 'close is not available with --protocol grpc: grpc-js gives a handler no hold on its connection';
  return undefined;
}

export interface GrpcEchoServerOptions {
  readonly host: string;
  readonly port: number;
  readonly defaults?: EchoControls;
  readonly grpcDefaults?: GrpcControls;
  /** gRPC over TLS (h2 with ALPN) instead of h2c. */
  readonly tls?: EchoTls;
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly timers?: TimerApi;
}

/** gRPC counters on top of the echo's: calls by the status they were answered with. */
export interface GrpcEchoStats extends EchoServerStats {
  /** Calls answered, by gRPC status name ("OK", "UNAVAILABLE"). */
  statusCounts: Record<string, number>;
}

type Call = grpc.ServerUnaryCall<PingMessage, PingMessage> | grpc.ServerWritableStream<PingMessage, PingMessage>;

/**
 * gRPC echo server on @grpc/grpc-js: fortio's ping service (`fgrpc.PingServer/Ping`, fortio's own ping.proto:
 * the request copied back with `ts` set to the server's time in ns, after `delayNanos`), meshbench's
 * server-streaming twin (`meshbench.PingStream/Ping`, `messages` replies), and the standard health service
 * (`grpc.health.v1.Health/Check`: SERVING for "" and fortio's "ping", NOT_SERVING for "ping_down",
 * NOT_FOUND otherwise, as fortio's server registers them). So fortio's gRPC client can drive it and
 * meshbench's client can drive fortio's server. Per-call controls come from metadata named for them
 * (`delay`, `size`, `burn`, …, `grpc-status`, `messages`) over the server's defaults. grpc-js owns the
 * HTTP/2; meshbench owns the listening socket (a connection injector), so it counts connections.
 */
export class GrpcEchoServer {
  readonly stats: GrpcEchoStats = { ...emptyEchoStats(), statusCounts: {} };
  private readonly server: grpc.Server;
  private readonly listener: net.Server;
  private readonly injector: grpc.ConnectionInjector;
  private readonly sockets = new Set<net.Socket>();
  private readonly defaults: EchoControls;
  private readonly grpcDefaults: GrpcControls;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly timers: TimerApi;
  private readonly deadlines: DeadlineQueue;
  private readonly work: ReplyWork;

  constructor(private readonly options: GrpcEchoServerOptions) {
    this.defaults = options.defaults ?? noControls;
    this.grpcDefaults = options.grpcDefaults ?? noGrpcControls;
    this.noMetadataControls = { controls: this.defaults, grpcControls: this.grpcDefaults };
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? monotonicClock;
    this.timers = options.timers ?? new PreciseTimers();
    this.deadlines = new DeadlineQueue(this.clock, this.timers, this.timers instanceof PreciseTimers ? 200 : 1500);
    this.work = new ReplyWork(this.stats, this.clock, this.deadlines, this.timers);
    const definition = protoLoader.fromJSON(protoRoot().toJSON(), { keepCase: true, longs: Number, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      fgrpc: { PingServer: grpc.ServiceClientConstructor };
      meshbench: { PingStream: grpc.ServiceClientConstructor };
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    // 1000 concurrent streams per connection, like the HTTP/2 echo (grpc-js's default is unlimited). No
    // channelz: its per-call bookkeeping (counters, timestamps, trace events) is server CPU no echo needs.
    this.server = new grpc.Server({ 'grpc.max_concurrent_streams': 1000, 'grpc.enable_channelz': 0 });
    this.server.addService(pkg.fgrpc.PingServer.service, {
      Ping: (call: grpc.ServerUnaryCall<PingMessage, PingMessage>, callback: grpc.sendUnaryData<PingMessage>) => this.ping(call, callback),
    });
    this.server.addService(pkg.meshbench.PingStream.service, {
      Ping: (call: grpc.ServerWritableStream<PingMessage, PingMessage>) => this.pingStream(call),
    });
    this.server.addService(pkg.grpc.health.v1.Health.service, {
      Check: (call: grpc.ServerUnaryCall<{ service: string }, { status: string }>, callback: grpc.sendUnaryData<{ status: string }>) => {
        this.stats.requests += 1;
        const status = healthOf(call.request.service);
        if (status === undefined) {
          this.count(grpc.status.NOT_FOUND);
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        } else {
          this.count(grpc.status.OK);
          callback(null, { status });
        }
      },
      Watch: (call: grpc.ServerWritableStream<{ service: string }, { status: string }>) => {
        call.write({ status: healthOf(call.request.service) ?? 'SERVICE_UNKNOWN' });
      },
    });
    const credentials = options.tls === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false);
    this.injector = this.server.createConnectionInjector(credentials);
    this.listener = net.createServer({ noDelay: true }, (socket) => {
      this.stats.connectionsAccepted += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('data', (chunk: Buffer) => { this.stats.bytesReceived += chunk.length; });
      this.injector.injectConnection(socket);
    });
  }

  listen(): Promise<net.AddressInfo> {
    return listenOn(this.listener, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    this.deadlines.clear();
    if (this.timers instanceof PreciseTimers) this.timers.close();
    this.injector.destroy();
    this.server.forceShutdown();
    for (const s of this.sockets) s.destroy();
    this.work.close();
    return new Promise((resolve) => this.listener.close(() => resolve()));
  }

  private count(code: number): void {
    const name = grpcStatusName(code);
    this.stats.statusCounts[name] = (this.stats.statusCounts[name] ?? 0) + 1;
  }

  /** This call's controls: defaults, then metadata; undefined (and the call answered INVALID_ARGUMENT) when one cannot be read. */
  private controlsOf(call: Call, fail: (details: string) => void): { controls: EchoControls; grpcControls: GrpcControls } | undefined {
    // One pass over the metadata (a handful of entries) instead of a lookup per control name.
    const map = call.metadata.getMap();
    let any = false;
    for (const key in map) if (controlKeys.has(key)) { any = true; break; }
    if (!any) return this.noMetadataControls;
    const get = (name: string): string | undefined => {
      const v = map[name];
      return v === undefined ? undefined : String(v);
    };
    try {
      if (get('status') !== undefined) throw new ControlSyntaxError(grpcControlProblem({ ...noControls, status: [{ value: 200, percent: 100 }] }) as string);
      if (get('close') !== undefined) throw new ControlSyntaxError(grpcControlProblem({ ...noControls, closePercent: 100 }) as string);
      const controls = controlsFromHeaders(this.defaults, '', get);
      const extra = ['grpc-status', 'messages'].map((n) => [n, get(n)] as const).filter(([, v]) => v !== undefined)
        .map(([n, v]) => `${n}=${encodeURIComponent(v as string)}`).join('&');
      const grpcControls = extra === '' ? this.grpcDefaults : parseGrpcControls(extra, this.grpcDefaults);
      return { controls, grpcControls };
    } catch (err) {
      this.stats.rejected += 1;
      this.stats.rejectedByCode.BAD_CONTROL = (this.stats.rejectedByCode.BAD_CONTROL ?? 0) + 1;
      fail(err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  /** The controls of a call whose metadata names none: the server's defaults. */
  private readonly noMetadataControls: { controls: EchoControls; grpcControls: GrpcControls };

  private reply(request: PingMessage, size: number | undefined): PingMessage {
    return { seq: request.seq, ts: Date.now() * 1e6, payload: size === undefined ? request.payload : 'x'.repeat(size), delayNanos: request.delayNanos };
  }

  private ping(call: grpc.ServerUnaryCall<PingMessage, PingMessage>, callback: grpc.sendUnaryData<PingMessage>): void {
    const c = this.controlsOf(call, (details) => { this.count(grpc.status.INVALID_ARGUMENT); callback({ code: grpc.status.INVALID_ARGUMENT, details }); });
    if (c === undefined) return;
    this.stats.requests += 1;
    const reply = resolveReply(c.controls, this.random);
    const code = pickWeighted(c.grpcControls.grpcStatus, this.random) ?? grpc.status.OK;
    const message = this.reply(call.request, reply.sizeBytes);
    const delayUs = reply.delayUs + Math.max(0, Number(call.request.delayNanos) / 1000);
    const answer = (): void => {
      this.count(code);
      if (code !== grpc.status.OK) callback({ code, details: `meshbench echo: grpc-status control (${grpcStatusName(code)})` });
      else callback(null, message);
    };
    // No delay, no calibration: answer now, without the work machinery's closures (the common, hot case).
    if (delayUs <= 0 && reply.burnUs <= 0 && reply.copies <= 0 && reply.connects <= 0 && reply.switches <= 0) {
      answer();
      return;
    }
    let cancelled = false;
    call.on('cancelled', () => { cancelled = true; });
    this.work.perform({ ...reply, delayUs }, () => frameGrpcMessage(encodedPing(message)), () => !cancelled, answer,
      () => callback({ code: grpc.status.INTERNAL, details: 'meshbench echo: a calibration helper could not start' }));
  }

  private pingStream(call: grpc.ServerWritableStream<PingMessage, PingMessage>): void {
    const c = this.controlsOf(call, (details) => { this.count(grpc.status.INVALID_ARGUMENT); call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details }); });
    if (c === undefined) return;
    this.stats.requests += 1;
    const reply = resolveReply(c.controls, this.random);
    const code = pickWeighted(c.grpcControls.grpcStatus, this.random) ?? grpc.status.OK;
    const n = pickWeighted(c.grpcControls.messages, this.random) ?? 1;
    const message = this.reply(call.request, reply.sizeBytes);
    const delayUs = reply.delayUs + Math.max(0, Number(call.request.delayNanos) / 1000);
    let cancelled = false;
    call.on('cancelled', () => { cancelled = true; });
    this.work.perform({ ...reply, delayUs }, () => frameGrpcMessage(encodedPing(message)), () => !cancelled, () => {
      this.count(code);
      if (code !== grpc.status.OK) {
        call.emit('error', { code, details: `meshbench echo: grpc-status control (${grpcStatusName(code)})` });
        return;
      }
      for (let i = 0; i < n; i += 1) call.write({ ...message, seq: i });
      call.end();
    }, () => call.emit('error', { code: grpc.status.INTERNAL, details: 'meshbench echo: a calibration helper could not start' }));
  }
}

/** Metadata keys that carry echo controls. */
const controlKeys = new Set(['delay', 'status', 'size', 'close', 'burn', 'copies', 'connects', 'switches', 'grpc-status', 'messages']);

/** fortio's health registrations: "" (the server) and "ping" serve, "ping_down" does not, anything else is unknown. */
function healthOf(service: string): string | undefined {
  if (service === '' || service === 'ping') return 'SERVING';
  if (service === 'ping_down') return 'NOT_SERVING';
  return undefined;
}

function encodedPing(message: PingMessage): Buffer {
  const type = protoRoot().lookupType('fgrpc.PingMessage');
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}
