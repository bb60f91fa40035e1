import fs from 'node:fs';
import path from 'node:path';
import * as protobuf from 'protobufjs';

/** The vendored .proto files (workloads/proto): fortio's ping service, the standard health service, meshbench's streaming ping. */
export const protoFiles = ['ping.proto', 'health.proto', 'meshbench_stream.proto'] as const;

/** Full gRPC method paths (`/package.Service/Method`) the echo server serves and the load client calls. */
export const pingMethod = '/fgrpc.PingServer/Ping';
export const healthCheckMethod = '/grpc.health.v1.Health/Check';
export const streamPingMethod = '/meshbench.PingStream/Ping';
export const knownMethods = [pingMethod, healthCheckMethod, streamPingMethod] as const;

/**
 * Where the .proto files are at run time: next to this module (dist/workloads/proto, copied there by the
 * build), else in the source tree (workloads/proto, two levels up from dist/workloads).
 */
function protoDirectory(): string {
  const candidates = [path.join(__dirname, 'proto'), path.join(__dirname, '..', '..', 'workloads', 'proto')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'ping.proto'))) ?? (candidates[0] as string);
}

/**
 * The text of each vendored .proto. The pod bundle (ci/bundleWorkloads.ts) carries them inlined in
 * `process.env.MESHBENCH_BUNDLED_PROTOS` (a JSON object, replaced at build time by esbuild's `define`),
 * since it ships as one file; otherwise they are read from disk.
 */
export function protoTexts(): Record<string, string> {
  const bundled = process.env.MESHBENCH_BUNDLED_PROTOS;
  if (bundled !== undefined && bundled !== '') return JSON.parse(bundled) as Record<string, string>;
  const dir = protoDirectory();
  return Object.fromEntries(protoFiles.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

let cachedRoot: protobuf.Root | undefined;

/** One protobufjs Root with every vendored .proto parsed and resolved (imports between them by file name). */
export function protoRoot(): protobuf.Root {
  if (cachedRoot !== undefined) return cachedRoot;
  const root = new protobuf.Root();
  for (const text of Object.values(protoTexts())) protobuf.parse(text, root, { keepCase: true });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

/** fortio's `PingMessage` (ping.proto): seq, ts (ns), payload, delayNanos. */
export interface PingMessage {
  seq: number;
  ts: number;
  payload: string;
  delayNanos: number;
}

/** Serialised `fgrpc.PingMessage` (protobuf wire format, RFC-less: protobuf's encoding spec). */
export function encodePing(message: PingMessage): Buffer {
  const type = protoRoot().lookupType('fgrpc.PingMessage');
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

/** Serialised `grpc.health.v1.HealthCheckRequest` for `service`. */
export function encodeHealthRequest(service: string): Buffer {
  const type = protoRoot().lookupType('grpc.health.v1.HealthCheckRequest');
  return Buffer.from(type.encode(type.fromObject({ service })).finish());
}

/** The `status` of a serialised HealthCheckResponse, by name (`SERVING`, `NOT_SERVING`, …); throws on bytes that are not one. */
export function decodeHealthStatus(bytes: Uint8Array): string {
  const type = protoRoot().lookupType('grpc.health.v1.HealthCheckResponse');
  const msg = type.toObject(type.decode(bytes), { enums: String, defaults: true }) as { status: string };
  return msg.status;
}
