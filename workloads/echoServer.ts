import net from 'node:net';
import { monotonicClock, type Clock, type TimerApi } from './clock';
import { PreciseTimers } from './preciseTimers';
import { DeadlineQueue } from './deadlineQueue';
import { ControlSyntaxError, noControls, parseControls, resolveReply, type EchoControls } from './echoControls';
import { reasonPhrase } from './httpStatus';
import type { Bytes } from './units';

export type EchoProtocol = 'http' | 'tcp';

export interface EchoServerOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: EchoProtocol;
  /** Server-wide defaults; a request's query string overrides them per key (fortio behaviour). */
  readonly defaults?: EchoControls;
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly timers?: TimerApi;
}

export interface EchoServerStats {
  connectionsAccepted: number;
  requests: number;
  bytesReceived: Bytes;
  bytesSent: Bytes;
}

const headerEnd = Buffer.from('\r\n\r\n');
const maxHeaderBytes = 64 * 1024;
const contentLengthRe = /\r\ncontent-length:[ \t]*(\d+)/i;
const connectionCloseRe = /\r\nconnection:[ \t]*close/i;
const connectionKeepAliveRe = /\r\nconnection:[ \t]*keep-alive/i;
const chunkedRe = /\r\ntransfer-encoding:[ \t]*[^\r]*chunked/i;

/**
 * HTTP/1.1 keep-alive and raw TCP echo server over `net`, with fortio's per-request controls.
 * Hand-written parsing: node:http costs ~40% of the throughput here and the server must never be the
 * bottleneck of a measurement. It reads only what it needs: the target's query, Content-Length and
 * Connection; pipelined requests are answered in order.
 */
export class EchoServer {
  readonly stats: EchoServerStats = { connectionsAccepted: 0, requests: 0, bytesReceived: 0, bytesSent: 0 };
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly defaults: EchoControls;
  private readonly random: () => number;
  private readonly clock: Clock;
  private readonly deadlines: DeadlineQueue;
  private readonly timers: TimerApi;
  private readonly payloadCache = new Map<number, Buffer>();
  private readonly headCache = new Map<string, Buffer>();
  /** The reply to a plain request without controls, built once. */
  private readonly plainReply: Buffer | undefined;
  /** Without a size control the reply echoes the request body, so the prebuilt reply fits only empty bodies. */
  private readonly plainEchoes: boolean;

  constructor(private readonly options: EchoServerOptions) {
    this.defaults = options.defaults ?? noControls;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? monotonicClock;
    this.timers = options.timers ?? new PreciseTimers();
    this.deadlines = new DeadlineQueue(this.clock, this.timers, this.timers instanceof PreciseTimers ? 200 : 1500);
    const d = this.defaults;
    const staticDefaults = d.delayUs.length === 0 && d.status.length === 0 && d.closePercent === 0 && d.sizeBytes.length <= 1
      && (d.sizeBytes[0]?.percent ?? 100) >= 100;
    this.plainEchoes = d.sizeBytes.length === 0;
    if (staticDefaults) {
      const size = d.sizeBytes[0]?.value ?? 0;
      this.plainReply = Buffer.concat([this.head(200, size, false), this.payload(size)]);
    }
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  listen(): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.options.host, port: this.options.port, backlog: 4096 }, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.deadlines.clear();
    if (this.timers instanceof PreciseTimers) this.timers.close();
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsAccepted += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (this.options.protocol === 'tcp') this.serveTcp(socket);
    else this.serveHttp(socket);
  }

  private serveTcp(socket: net.Socket): void {
    const delay = this.defaults.delayUs.length > 0;
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesReceived += chunk.length;
      this.stats.bytesSent += chunk.length;
      if (!delay) {
        socket.write(chunk);
        return;
      }
      const reply = resolveReply(this.defaults, this.random);
      this.deadlines.schedule(this.clock.nowUs() + reply.delayUs, () => { if (!socket.destroyed) socket.write(chunk); });
    });
  }

  private serveHttp(socket: net.Socket): void {
    let pending: Buffer | undefined;
    let waiting = false; // a delayed reply is outstanding: later pipelined requests wait for it

    const process = (): void => {
      while (pending !== undefined && !waiting && !socket.destroyed) {
        const buf: Buffer = pending;
        const end = buf.indexOf(headerEnd);
        if (end < 0) {
          if (buf.length > maxHeaderBytes) this.fail(socket, 431);
          return;
        }
        const head = buf.toString('latin1', 0, end + 2);
        const lineEnd = head.indexOf('\r\n');
        const requestLine = head.slice(0, lineEnd);
        const sp1 = requestLine.indexOf(' ');
        const sp2 = requestLine.lastIndexOf(' ');
        if (sp1 <= 0 || sp2 <= sp1 || !requestLine.startsWith('HTTP/1.', sp2 + 1)) {
          this.fail(socket, 400);
          return;
        }
        if (chunkedRe.test(head)) {
          this.fail(socket, 501);
          return;
        }
        const lengthMatch = contentLengthRe.exec(head);
        const bodyBytes = lengthMatch === null ? 0 : Number(lengthMatch[1]);
        const total = end + 4 + bodyBytes;
        if (buf.length < total) return;
        pending = buf.length === total ? undefined : buf.subarray(total);
        this.stats.requests += 1;
        this.stats.bytesReceived += total;

        const http10 = requestLine.endsWith('1.0');
        const clientClose = http10 ? !connectionKeepAliveRe.test(head) : connectionCloseRe.test(head);
        const target = requestLine.slice(sp1 + 1, sp2);
        const q = target.indexOf('?');
        if (q < 0 && this.plainReply !== undefined && !clientClose && (bodyBytes === 0 || !this.plainEchoes)) {
          this.stats.bytesSent += this.plainReply.length;
          socket.write(this.plainReply);
          continue;
        }
        let controls = this.defaults;
        if (q >= 0) {
          try {
            controls = parseControls(target.slice(q + 1), this.defaults);
          } catch (err) {
            if (!(err instanceof ControlSyntaxError)) throw err;
            this.reply(socket, 400, Buffer.from(`${err.message}\n`), true);
            return;
          }
        }
        const reply = resolveReply(controls, this.random);
        const body = reply.sizeBytes === undefined ? buf.subarray(end + 4, total) : this.payload(reply.sizeBytes);
        const close = reply.close || clientClose;
        if (reply.delayUs <= 0) {
          this.reply(socket, reply.status, body, close);
          continue;
        }
        waiting = true;
        const bodyCopy = reply.sizeBytes === undefined ? Buffer.from(body) : body;
        this.deadlines.schedule(this.clock.nowUs() + reply.delayUs, () => {
          waiting = false;
          if (socket.destroyed) return;
          this.reply(socket, reply.status, bodyCopy, close);
          process();
        });
      }
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
      process();
    });
  }

  private reply(socket: net.Socket, status: number, body: Buffer, close: boolean): void {
    const head = this.head(status, body.length, close);
    this.stats.bytesSent += head.length + body.length;
    // One write, one syscall, for small replies; large ones are not worth copying.
    if (body.length <= 16 * 1024) socket.write(body.length === 0 ? head : Buffer.concat([head, body], head.length + body.length));
    else {
      socket.cork();
      socket.write(head);
      socket.write(body);
      socket.uncork();
    }
    if (close) socket.end();
  }

  private fail(socket: net.Socket, status: number): void {
    this.reply(socket, status, Buffer.alloc(0), true);
  }

  private head(status: number, contentLength: number, close: boolean): Buffer {
    const key = `${status}:${contentLength}:${close ? 1 : 0}`;
    let head = this.headCache.get(key);
    if (head === undefined) {
      head = Buffer.from(
        `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: meshbench\r\nContent-Length: ${contentLength}\r\n`
        + `${close ? 'Connection: close\r\n' : ''}Content-Type: application/octet-stream\r\n\r\n`, 'latin1');
      if (this.headCache.size < 4096) this.headCache.set(key, head);
    }
    return head;
  }

  private payload(size: Bytes): Buffer {
    let p = this.payloadCache.get(size);
    if (p === undefined) {
      p = Buffer.alloc(size, 0x78); // 'x', printable so curl output stays readable
      if (this.payloadCache.size < 64) this.payloadCache.set(size, p);
    }
    return p;
  }
}
