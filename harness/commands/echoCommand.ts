import fs from 'node:fs';
import type net from 'node:net';
import type { Command } from 'commander';
import { EchoServer, type EchoServerStats } from '../../workloads/echoServer';
import { ControlSyntaxError, hasCalibration, parseControls, serverControlKeyProblem } from '../../workloads/echoControls';
import { H2EchoServer, type EchoTls } from '../../workloads/h2EchoServer';
import { GrpcEchoServer, grpcControlProblem, parseGrpcControls } from '../../workloads/grpcEchoServer';
import { BadInputError, EnvironmentError } from '../errors';
import { parseDurationFlag, parsePort } from '../cliParse';
import { controlPathPhrases } from '../echoStopLine';
import { waitForStop } from '../signals';

interface EchoFlags {
  host: string;
  port: string;
  protocol?: string;
  tcp?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  grpcStatus?: string;
  delay?: string;
  status?: string;
  size?: string;
  close?: string | boolean;
  controls?: string;
  duration?: string;
  headersTimeout?: string;
  burn?: string;
  copies?: string;
  connects?: string;
  switches?: string;
}

export function registerEchoCommand(program: Command): void {
  program
    .command('echo')
    .description('run the echo server: HTTP/1.1 keep-alive (default), HTTP/2, gRPC (fortio\'s ping and the health service) or raw TCP echo')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--protocol <name>', 'http (HTTP/1.1), http2 (h2c with prior knowledge; h2 with --tls-cert/--tls-key), grpc (over h2c, or TLS) or tcp', 'http')
    .option('--tcp', 'raw TCP echo instead of HTTP (same as --protocol tcp)')
    .option('--tls-cert <file>', 'http2, grpc: PEM certificate (chain) to serve h2 over TLS with ALPN')
    .option('--tls-key <file>', 'http2, grpc: PEM private key of --tls-cert')
    .option('--grpc-status <list>', 'grpc: status code(s) with probability, numbers or names: UNAVAILABLE:10 or 14:10')
    .option('--delay <list>', 'default reply delay, fortio style: 5ms or 5ms:10,1ms:20 (value:percent)')
    .option('--status <list>', 'default status code(s) with probability: 503:5,429:1')
    .option('--size <list>', 'default reply body size(s) in bytes with probability: 1024 or 1024:50,64:50')
    .option('--close [percent]', 'close the connection after the reply (always, or with a percent)')
    .option('--burn <list>', 'calibration: user-space CPU per request, e.g. 200us (or 200us:50)')
    .option('--copies <list>', 'calibration: extra passes of each reply through the kernel (socket pair write+read), e.g. 2')
    .option('--connects <list>', 'calibration: extra TCP connections opened and closed per request to a local listener, e.g. 1')
    .option('--switches <list>', 'calibration: extra voluntary context switches per request (hand-off to a helper thread), e.g. 10')
    .option('--controls <query>', 'defaults as one fortio query string: "delay=1ms&size=64"')
    .option('--headers-timeout <d>', 'close a connection whose request head is not complete after this long, with 408 (slowloris)', '60s')
    .option('--duration <d>', 'stop by itself after this long (default: run until Ctrl-C)')
    .action(async (flags: EchoFlags) => {
      const port = parsePort('--port', flags.port);
      const parts: string[] = [];
      if (flags.controls !== undefined) {
        // Values are checked by the parsers below, with their own messages.
        const problem = serverControlKeyProblem(flags.controls);
        if (problem !== undefined) throw new BadInputError(`bad echo control: ${problem}`);
        parts.push(flags.controls);
      }
      if (flags.delay !== undefined) parts.push(`delay=${flags.delay}`);
      if (flags.status !== undefined) parts.push(`status=${flags.status}`);
      if (flags.size !== undefined) parts.push(`size=${flags.size}`);
      for (const key of ['burn', 'copies', 'connects', 'switches'] as const) {
        const v = flags[key];
        if (v !== undefined) parts.push(`${key}=${v}`);
      }
      if (flags.close !== undefined) parts.push(`close=${flags.close === true ? 'true' : flags.close}`);
      // Again over flags and --controls together: an empty value (--burn=) or a control given twice is refused.
      const partsProblem = serverControlKeyProblem(parts.join('&'));
      if (partsProblem !== undefined) throw new BadInputError(`bad echo control: ${partsProblem}`);
      const defaults = parseControlsOrBadInput(parseControls, parts.join('&'));
      const protocol = flags.tcp === true ? 'tcp' : (flags.protocol ?? 'http');
      if (protocol !== 'http' && protocol !== 'http2' && protocol !== 'grpc' && protocol !== 'tcp') {
        throw new BadInputError(`--protocol must be http, http2, grpc or tcp, got "${protocol}"`);
      }
      if (flags.tcp === true && flags.protocol !== undefined && flags.protocol !== 'http' && flags.protocol !== 'tcp') {
        throw new BadInputError(`--tcp contradicts --protocol ${flags.protocol}`);
      }
      if (protocol === 'tcp' && hasCalibration(defaults)) {
        throw new BadInputError('the calibration controls (burn, copies, connects, switches) work on HTTP and gRPC requests, not with --tcp');
      }
      if (flags.grpcStatus !== undefined) parts.push(`grpc-status=${encodeURIComponent(flags.grpcStatus)}`);
      const grpcDefaults = parseControlsOrBadInput(parseGrpcControls, parts.join('&'));
      if (protocol !== 'grpc' && (grpcDefaults.grpcStatus.length > 0 || grpcDefaults.messages.length > 0)) {
        throw new BadInputError('grpc-status and messages are gRPC controls: use them with --protocol grpc');
      }
      if (protocol === 'grpc') {
        const problem = grpcControlProblem(defaults);
        if (problem !== undefined) throw new BadInputError(problem);
      }
      if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new BadInputError('--tls-cert and --tls-key go together');
      if (flags.tlsCert !== undefined && protocol !== 'http2' && protocol !== 'grpc') {
        throw new BadInputError('--tls-cert/--tls-key serve HTTP/2 or gRPC over TLS: add --protocol http2 or grpc');
      }
      const tls = flags.tlsCert === undefined ? undefined : readTls(flags.tlsCert, flags.tlsKey as string);
      const durationUs = flags.duration === undefined ? undefined : parseDurationFlag('--duration', flags.duration);
      // As load's --duration: 0 would stop the server before anything could reach it; leave it out to run until Ctrl-C.
      if (durationUs === 0) throw new BadInputError('--duration must be more than 0 (leave it out to run until Ctrl-C)');
      const headersTimeoutUs = parseDurationFlag('--headers-timeout', flags.headersTimeout ?? '60s');
      if (headersTimeoutUs <= 0) throw new BadInputError('--headers-timeout must be more than 0');
      let server: { listen(): Promise<net.AddressInfo>; close(): Promise<void>; readonly stats: EchoServerStats };
      try {
        server = protocol === 'http2'
          ? new H2EchoServer({ host: flags.host, port, defaults, ...(tls === undefined ? {} : { tls }) })
          : protocol === 'grpc'
            ? new GrpcEchoServer({ host: flags.host, port, defaults, grpcDefaults, ...(tls === undefined ? {} : { tls }) })
            : new EchoServer({ host: flags.host, port, protocol, defaults, headersTimeoutMs: headersTimeoutUs / 1000 });
      } catch (err) {
        // OpenSSL's reason ("PEM routines::no start line", "key values mismatch") names what is wrong with the files.
        if (tls !== undefined) throw new BadInputError(`--tls-cert ${flags.tlsCert} / --tls-key ${flags.tlsKey}: not a usable PEM certificate and key (${(err as Error).message})`);
        throw err;
      }
      let address;
      try {
        address = await server.listen();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new EnvironmentError(`port ${port} on ${flags.host} is in use`, 'pick another with --port, or 0 for any free port');
        if (code === 'EADDRNOTAVAIL') throw new EnvironmentError(`address ${flags.host} is not on this machine`, 'use an address of a local interface');
        if (code === 'EACCES') throw new EnvironmentError(`no permission to listen on port ${port}`, 'use a port above 1023 or run as root');
        if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new BadInputError(`--host ${flags.host} does not resolve`);
        throw err;
      }
      const shown = protocol === 'http2' ? (tls === undefined ? 'http2 h2c' : 'http2 h2 over TLS') : protocol === 'grpc' && tls !== undefined ? 'grpc over TLS' : protocol;
      process.stderr.write(`meshbench echo: listening on ${address.address}:${address.port} (${shown})\n`);
      await waitForStop(durationUs);
      await server.close();
      const st = server.stats;
      const rejected = st.rejected === 0 ? '' : `, ${st.rejected} rejected (${Object.entries(st.rejectedByCode).map(([code, n]) => `${code} ${n}`).join(', ')})`;
      const internal = st.internalErrors === 0 ? '' : `, ${st.internalErrors} connections closed on an internal error`;
      const c = st.calibration;
      const work = [c.bytesCopied > 0 ? `${c.bytesCopied} bytes copied` : '', c.connectionsChurned > 0 ? `${c.connectionsChurned} connections churned` : '',
        c.connectFailures > 0 ? `${c.connectFailures} calibration connects failed` : '', c.switchHandoffs > 0 ? `${c.switchHandoffs} thread hand-offs` : '',
        ...controlPathPhrases({ ...(c.connectsPath === undefined ? {} : { connects: c.connectsPath }), ...(c.switchesPath === undefined ? {} : { switches: c.switchesPath }), ...(c.copiesPath === undefined ? {} : { copies: c.copiesPath }) }),
      ].filter((x) => x !== '');
      const calibration = work.length === 0 ? '' : `; calibration: ${work.join(', ')}`;
      // Raw TCP has no request boundaries (a client's message may arrive in several reads), so it counts bytes.
      const served = flags.tcp === true ? `echoing ${st.bytesReceived} bytes` : `${st.requests} requests`;
      process.stderr.write(`meshbench echo: stopped after ${served} on ${st.connectionsAccepted} connection${st.connectionsAccepted === 1 ? '' : 's'}${rejected}${internal}${calibration}\n`);
    });
}

/**
 * `parse(query)` for the echo's default controls (fortio syntax, "size=1024&delay=1ms"), its ControlSyntaxError
 * turned into one BadInputError line ("bad echo control: size: …"); any other error passes through.
 */
export function parseControlsOrBadInput<T>(parse: (query: string) => T, query: string): T {
  try {
    return parse(query);
  } catch (err) {
    if (err instanceof ControlSyntaxError) throw new BadInputError(`bad echo control: ${err.message}`);
    throw err;
  }
}

/** Reads the PEM files of --tls-cert/--tls-key; one BadInputError naming the file that cannot be read. */
function readTls(certFile: string, keyFile: string): EchoTls {
  const read = (flag: string, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new BadInputError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  return { cert: read('--tls-cert', certFile), key: read('--tls-key', keyFile) };
}
