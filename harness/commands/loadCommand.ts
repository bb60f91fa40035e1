import { Option, type Command } from 'commander';
import { LoadRunner, type LoadProgress } from '../../workloads/loadRunner';
import { parseTarget, TargetSyntaxError } from '../../workloads/loadTarget';
import { toFortioJson } from '../../workloads/fortioExport';
import { formatLoadSummary } from '../../workloads/summaryFormat';
import { healthCheckMethod, knownMethods, pingMethod, streamPingMethod } from '../../workloads/grpcProto';
import { notHttp2Kind } from '../../workloads/h2Connection';
import { notGrpcPrefix } from '../../workloads/grpcConnection';
import type { LoadResult } from '../../workloads/loadResult';
import type { LoadOptions } from '../../workloads/loadOptions';
import { rateTooHighProblem, windowTooShortProblem } from '../../workloads/windowFloor';
import { realtimeWaitNote } from '../../workloads/realtimeWait';
import { BadInputError, ExitCode, MeshbenchError } from '../errors';
import { InterruptSignals } from './interruptSignals';
import { parseByteSize, parseDurationFlag, parseNonNegativeInt, parseNonNegativeNumber, parsePositiveInt } from '../cliParse';
import { checkWritableOutput, writeFileAtomic } from '../atomicWrite';
import { meshbenchVersion } from '../version';

/** fortio's default -t, 5 s. */
const defaultDurationUs = 5_000_000;

interface LoadFlags {
  qps: string;
  connections: string;
  streams?: string;
  grpcPingDelay?: string;
  grpcStream?: string;
  healthService?: string;
  duration?: string;
  requests?: string;
  warmup: string;
  payloadSize: string;
  header: string[];
  keepalive: boolean;
  timeout: string;
  maxPending?: string;
  /** Unset means 500 ms, or --timeout when that is shorter. */
  drain?: string;
  json?: string;
  fortioJson?: string;
  labels: string;
  quiet?: boolean;
  events?: boolean;
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  const name = colon < 0 ? '' : text.slice(0, colon).trim();
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n]/.test(text)) {
    throw new BadInputError(`--header must look like "Name: value", got "${text}"`);
  }
  return [name, text.slice(colon + 1).trim()];
}

/** Turns flags into validated options; every problem is one BadInputError naming the flag. */
export function loadOptionsFromFlags(url: string, flags: LoadFlags): LoadOptions {
  let target;
  try {
    target = parseTarget(url);
  } catch (err) {
    if (err instanceof TargetSyntaxError) throw new BadInputError(err.message);
    throw err;
  }
  const qps = parseNonNegativeNumber('--qps', flags.qps);
  const connections = parsePositiveInt('--connections', flags.connections);
  const requests = flags.requests === undefined ? undefined : parsePositiveInt('--requests', flags.requests);
  const tooFast = rateTooHighProblem(qps);
  if (tooFast !== null) throw new BadInputError(`--qps ${tooFast}`);
  let durationUs = flags.duration === undefined ? undefined : parseDurationFlag('--duration', flags.duration);
  if (durationUs === 0) throw new BadInputError('--duration must be more than 0');
  // fortio's -n: "run for exactly this number of calls instead of duration", so -n wins over -t (README, load).
  if (requests !== undefined) durationUs = undefined;
  const shortWindow = durationUs === undefined ? null : windowTooShortProblem(durationUs, qps);
  if (shortWindow !== null) throw new BadInputError(`--duration ${shortWindow}`);
  if (durationUs === undefined && requests === undefined) {
    durationUs = defaultDurationUs; // fortio's default
    // The default window is checked as an explicit one would be (0.001 qps: one request every 1000 s).
    const shortDefault = windowTooShortProblem(durationUs, qps);
    if (shortDefault !== null) throw new BadInputError(`the default --duration ${shortDefault}; give a longer -t, or -n`);
  }
  const timeoutUs = parseDurationFlag('--timeout', flags.timeout);
  if (timeoutUs <= 0) throw new BadInputError('--timeout must be more than 0');
  // By default the backlog holds what the rate issues in one --timeout: a request waiting longer would
  // have timed out in any client that bounds a call's total time.
  const maxPending = flags.maxPending === undefined
    ? Math.max(connections, Math.ceil((qps * timeoutUs) / 1e6))
    : parseNonNegativeInt('--max-pending', flags.maxPending);
  // A request still in flight after --timeout has timed out, so a longer drain waits for nothing: the
  // default (500 ms) shrinks to --timeout quietly, but a --drain the user asked for is refused.
  const drainUs = flags.drain === undefined ? Math.min(500_000, timeoutUs) : parseDurationFlag('--drain', flags.drain);
  if (flags.drain !== undefined && drainUs > timeoutUs) {
    throw new BadInputError(`--drain ${flags.drain} is longer than --timeout ${flags.timeout}: a request in flight times out before the drain ends; give --drain at most --timeout`);
  }
  const multiplexed = target.protocol === 'http2' || target.protocol === 'grpc';
  const streams = flags.streams === undefined ? 1 : parsePositiveInt('--streams', flags.streams);
  if (streams > 1 && !multiplexed) {
    throw new BadInputError(`--streams is for HTTP/2 and gRPC targets (h2c://, https://, grpc://, grpcs://); ${target.protocol === 'tcp' ? 'a TCP connection carries one message' : 'HTTP/1.1 carries one request'} at a time`);
  }
  // HAProxy's and nghttp2's default SETTINGS_MAX_CONCURRENT_STREAMS is 100 (profiles cap load.streams there too);
  // the cap here is the stream count of any server we know of, so a typo is caught before 4 × 2000 slots open.
  if (streams > maxStreamsFlag) throw new BadInputError(`--streams ${streams}: at most ${maxStreamsFlag} (servers refuse streams beyond their SETTINGS_MAX_CONCURRENT_STREAMS, commonly 100)`);
  if (multiplexed && !flags.keepalive) throw new BadInputError('--no-keepalive is for HTTP/1.1 and TCP; HTTP/2 and gRPC keep their connections (as h2load and fortio do)');
  const grpcOnly = [['--grpc-ping-delay', flags.grpcPingDelay], ['--grpc-stream', flags.grpcStream], ['--health-service', flags.healthService]] as const;
  for (const [flag, v] of grpcOnly) if (v !== undefined && target.protocol !== 'grpc') throw new BadInputError(`${flag} is for grpc:// and grpcs:// targets`);
  let grpc: LoadOptions['grpc'];
  if (target.protocol === 'grpc') {
    const streamMessages = flags.grpcStream === undefined ? undefined : parsePositiveInt('--grpc-stream', flags.grpcStream);
    let method = target.path === '' ? (streamMessages !== undefined ? streamPingMethod : flags.healthService !== undefined ? healthCheckMethod : pingMethod) : target.path;
    if (!(knownMethods as readonly string[]).includes(method)) {
      throw new BadInputError(`unknown gRPC method "${method}" in ${target.url}; meshbench calls ${pingMethod} (the default), ${streamPingMethod} (server streaming) or ${healthCheckMethod}`);
    }
    if (streamMessages !== undefined && method !== streamPingMethod) throw new BadInputError(`--grpc-stream makes server-streaming calls (${streamPingMethod}), not ${method}`);
    if (flags.healthService !== undefined && method !== healthCheckMethod) throw new BadInputError(`--health-service is for ${healthCheckMethod}, not ${method}`);
    const pingDelayUs = flags.grpcPingDelay === undefined ? 0 : parseDurationFlag('--grpc-ping-delay', flags.grpcPingDelay);
    if (pingDelayUs > 0 && method === healthCheckMethod) throw new BadInputError(`--grpc-ping-delay is for the ping methods, not ${method}`);
    method = method as string;
    grpc = { method, streamMessages: streamMessages ?? 1, pingDelayNs: pingDelayUs * 1000, healthService: flags.healthService ?? '' };
  }
  return {
    target,
    qps,
    connections,
    streams,
    ...(grpc === undefined ? {} : { grpc }),
    durationUs,
    requests,
    warmupUs: parseDurationFlag('--warmup', flags.warmup),
    payloadBytes: parseByteSize('--payload-size', flags.payloadSize),
    headers: flags.header.map(parseHeader),
    keepAlive: flags.keepalive,
    timeoutUs,
    maxPending,
    drainUs,
    labels: flags.labels,
  };
}

export function registerLoadCommand(program: Command): void {
  program
    .command('load')
    .description('generate load against an HTTP/1.1 (http://), HTTP/2 (h2c://, https://), gRPC (grpc://, grpcs:// over TLS) or TCP echo (tcp://) target and report latency')
    .argument('<url>', 'http://host:port/path?query, h2c://host:port/path, https://host:port/path, grpc[s]://host:port[/pkg.Service/Method] or tcp://host:port')
    .option('-q, --qps <n>', 'requests per second across all connections; 0 = as fast as possible (closed loop); at most 200000', '8')
    .option('-c, --connections <n>', 'concurrent connections', '4')
    .option('-s, --streams <n>', 'HTTP/2, gRPC: concurrent streams per connection, one request in flight each (h2load -m, fortio -s)', '1')
    .option('--grpc-ping-delay <d>', 'gRPC ping: ask the server to delay each reply this long (fortio\'s -grpc-ping-delay)')
    .option('--grpc-stream <n>', 'gRPC: server-streaming calls (meshbench.PingStream/Ping), each answered with n messages')
    .option('--health-service <name>', 'gRPC: call grpc.health.v1.Health/Check for this service instead of the ping (fortio\'s -healthservice)')
    .option('-t, --duration <d>', 'how long to measure (5s by default); --requests, when given, wins over it (as fortio\'s -n)')
    .option('-n, --requests <n>', 'stop after this many measured requests')
    .option('--warmup <d>', 'run this long before measuring (not recorded)', '0s')
    .option('--payload-size <bytes>', 'request body size (HTTP POST) or TCP message size', '0')
    .option('-H, --header <header>', 'extra request header "Name: value" (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--no-keepalive', 'open a new connection for every request')
    .option('--timeout <d>', 'per-request timeout, from the actual send', '5s')
    .option('--max-pending <n>', 'cap on requests due but not yet sent (backlog); beyond it the oldest is dropped as "overflow" (default: qps × timeout)')
    .option('--drain <d>', 'after the window, how long requests in flight may still complete before they count as "in-flight-at-end" (at most --timeout; default 500ms, or --timeout when shorter)')
    .option('--json <file>', 'write the full result (with encoded histograms) as JSON; - for stdout')
    .option('--fortio-json <file>', 'write a fortio-compatible JSON result; - for stdout')
    .option('--labels <text>', 'free text stored with the result', '')
    .addOption(new Option('--quiet', 'no progress, no summary'))
    .addOption(new Option('--events', 'JSON lines on stderr for a supervising process: measuring, progress, done').hideHelp())
    .action(async (url: string, flags: LoadFlags) => {
      const options = loadOptionsFromFlags(url, flags);
      if (flags.json !== undefined) checkWritableOutput('--json', flags.json);
      if (flags.fortioJson !== undefined) checkWritableOutput('--fortio-json', flags.fortioJson);
      const abort = new AbortController();
      // One interrupt can arrive as two signals (coreutils `timeout` signals the command, then its group): a
      // `once` handler let the second one kill the process before it wrote anything. A later Ctrl-C forces.
      const interrupts = new InterruptSignals();
      const onSignal = (): void => {
        if (interrupts.next() === 'force') process.exit(ExitCode.interrupted);
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const live = process.stderr.isTTY && flags.quiet !== true && flags.events !== true;
      const event = (e: Record<string, unknown>): void => { process.stderr.write(`${JSON.stringify({ meshbenchEvent: true, ...e })}\n`); };
      const runner = new LoadRunner(options, {
        version: meshbenchVersion(),
        signal: abort.signal,
        ...(live ? { onProgress: (p: LoadProgress) => process.stderr.write(`\r${progressLine(p)}\x1b[K`) } : {}),
        ...(flags.events === true ? {
          onProgress: (p: LoadProgress) => event({ event: 'progress', ...p }),
          // The process's own rusage at both window events: the supervisor separates the load client's
          // user-space CPU from the rest of its cgroup (the mesh's share of the client pod).
          onMeasuring: () => event({ event: 'measuring', ...ownCpu() }),
        } : {}),
      });
      // Still handled while the result is written: the interrupt's repeat must not kill the process first.
      try {
        let result;
        try {
          result = await runner.run();
        } finally {
          if (live) process.stderr.write('\r\x1b[K');
        }
        if (flags.events === true) event({ event: 'done', requestsCompleted: result.requestsCompleted, ...ownCpu() });
        // A peer that is not HTTP/2 at all is bad input, not a measurement: one line, no summary.
        const notHttp2 = (result.errorsByKind[notHttp2Kind] ?? 0) > 0 && !anySuccess(result);
        // Likewise an HTTP/2 server that is no gRPC server: it answered, but not with gRPC.
        const notGrpc = anySuccess(result) ? undefined : Object.keys(result.statusCounts).find((k) => k.startsWith(notGrpcPrefix));
        if (flags.quiet !== true && flags.events !== true && !notHttp2 && notGrpc === undefined) {
          process.stderr.write(formatLoadSummary(result));
          const realtimeOff = runner.realtimeWaitOffReason();
          if (realtimeOff !== undefined) process.stderr.write(`${realtimeWaitNote(realtimeOff)}\n`);
        }
        if (flags.json !== undefined) writeFileAtomic(flags.json, `${JSON.stringify(result, null, 2)}\n`);
        if (flags.fortioJson !== undefined) writeFileAtomic(flags.fortioJson, `${JSON.stringify(toFortioJson(result), null, 2)}\n`);
        if (notHttp2) {
          const t = options.target;
          if (t.tls && t.protocol === 'grpc') throw new BadInputError(`server does not speak HTTP/2: ${t.host}:${t.port} did not negotiate h2 with ALPN, as a gRPC server over TLS does; is this a gRPC TLS port?`);
          if (t.tls) throw new BadInputError(`server does not speak HTTP/2: ${t.host}:${t.port} did not negotiate h2 with ALPN (meshbench's HTTP/1.1 is cleartext only: use http:// to a cleartext port)`);
          const hint = t.protocol === 'grpc' ? 'a gRPC server answers it; is this an HTTP/1.1 port, or a TLS one (grpcs://)?' : 'use http:// for an HTTP/1.1 server';
          throw new BadInputError(`server does not speak HTTP/2 (prior knowledge): ${t.host}:${t.port} did not answer the connection preface with SETTINGS; ${hint}`);
        }
        if (notGrpc !== undefined) {
          const t = options.target;
          const type = notGrpc.slice(notGrpcPrefix.length);
          throw new BadInputError(`not a gRPC server: ${t.host}:${t.port} answered HTTP 200 with ${type === 'no-content-type' ? 'no content-type' : `content-type ${type}`} and no grpc-status, not a gRPC response (application/grpc); for a plain HTTP/2 server use ${t.tls ? 'https' : 'h2c'}://`);
        }
        // Every mode, measured requests or none: a window in which no request was measured (max mode with every
        // connection still waiting on a warm-up request) succeeded no more than one whose requests all failed.
        if (!anySuccess(result) && !abort.signal.aborted) {
          const kinds = Object.entries(result.errorsByKind).map(([k, n]) => `${k}: ${n}`).join(', ');
          const why = kinds !== '' ? kinds : result.latency.unavailableReason ?? 'no request was measured';
          if (result.requestsCompleted === 0) throw new MeshbenchError(`no request succeeded (${why}); is ${options.target.url} up?`);
          // Answered, but never with success (fortio's rule: 2xx for HTTP, OK for gRPC): the server is up and said no.
          const statuses = Object.entries(result.statusCounts).map(([k, n]) => `${k}: ${n}`).join(', ');
          throw new MeshbenchError(`no request succeeded: every answer was an error (${[statuses, kinds].filter((x) => x !== '').join(', ')})`);
        }
        if (options.target.protocol === 'grpc') {
          // As `fortio grpcping`, which exits 1 unless every call came back SERVING: a gRPC run with any
          // call that did not end OK exits 1 (the result is written first).
          const failed = result.requestsCompleted + result.requestsFailed - (result.statusCounts.OK ?? 0);
          if (failed > 0 && !abort.signal.aborted) {
            const byKind = [...Object.entries(result.statusCounts).filter(([k]) => k !== 'OK'), ...Object.entries(result.errorsByKind)].map(([k, n]) => `${k}: ${n}`).join(', ');
            throw new MeshbenchError(`${failed} of ${result.requestsCompleted + result.requestsFailed} gRPC calls did not end OK (${byKind})`);
          }
        }
        if (abort.signal.aborted) process.exitCode = 130;
      } finally {
        // Once interrupted, the process is on its way out: the interrupt's repeat still lands here, not on the default.
        if (!abort.signal.aborted) {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }
    });
}

/** This process's CPU so far (user and system µs, all threads), for the window events. */
function ownCpu(): { cpuUserUs: number; cpuSystemUs: number } {
  const u = process.cpuUsage();
  return { cpuUserUs: u.user, cpuSystemUs: u.system };
}

/** The load command's own progress line; P99 "none" (as the load summary prints an empty histogram) until a request has completed. */
export function progressLine(p: LoadProgress): string {
  const phase = p.warmingUp ? 'warm-up' : 'measuring';
  return `${phase} ${(p.elapsedUs / 1e6).toFixed(0)}s  ${p.qpsLastInterval.toFixed(0)} qps  p99 ${p.p99Us === null ? 'none' : `${(p.p99Us / 1000).toFixed(2)} ms`}  ${p.completed} ok  ${p.errors} errors`;
}

/** Whether any request was answered with a success (2xx, gRPC OK, or a whole TCP echo). */
/** The most streams per connection `--streams` accepts. */
const maxStreamsFlag = 1000;

function anySuccess(r: LoadResult): boolean {
  return r.successLatency.count > 0;
}
