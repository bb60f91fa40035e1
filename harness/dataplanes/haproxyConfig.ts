/*
 * HAProxy configuration as data, rendered from one template. Pure, so tests check what a data plane asks of
 * its proxies without starting any. Every proxy meshbench runs is one of these.
 */

export type ProxyMode = 'http' | 'tcp';

/**
 * The HTTP version an L7 hop speaks: `h1` lets HAProxy pick (HTTP/1.1, or HTTP/2 when a cleartext client opens
 * with the preface or TLS negotiates it), `h2` forces HTTP/2 on the hop (`proto h2`: h2c with prior knowledge on
 * cleartext, RFC 9113 §3.3; HAProxy ≥ 2.0 for servers), with ALPN `h2` where the hop is TLS. Only for `mode http`.
 */
export type HttpVersion = 'h1' | 'h2';

/** Files of one proxy identity: `crt` holds certificate + key, `ca` the run's CA. */
export interface TlsFiles {
  readonly crt: string;
  readonly ca: string;
}

export interface FrontendSpec {
  readonly name: string;
  readonly port: number;
  readonly mode: ProxyMode;
  /** Expect a PROXY protocol v2 header (the tunnel hop carries the original source and service address). */
  readonly acceptProxy?: boolean;
  /** Terminate mTLS: present the proxy's certificate, require one signed by the run's CA. */
  readonly tls?: TlsFiles;
  /** Route by the original destination (service address, from SO_ORIGINAL_DST or the PROXY header). */
  readonly routes: ReadonlyArray<{ readonly backend: string; readonly dst: string; readonly dstPort: number }>;
  readonly defaultBackend: string;
  /** HTTP version of the connections it accepts (mode http only); default h1 (HAProxy detects). */
  readonly http?: HttpVersion;
}

export interface ServerSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly sendProxy?: boolean;
  /** Originate mTLS to this server. */
  readonly tls?: TlsFiles;
  /** HTTP version towards this server (its backend in mode http only); default h1 (HTTP/1.1). */
  readonly http?: HttpVersion;
}

export interface BackendSpec {
  readonly name: string;
  readonly mode: ProxyMode;
  readonly servers: readonly ServerSpec[];
}

export interface HaproxySpec {
  /** Worker threads (Istio's proxies default to 2). */
  readonly workers: number;
  readonly frontends: readonly FrontendSpec[];
  readonly backends: readonly BackendSpec[];
}

/**
 * Idle HTTP/2 server connections a proxy keeps per server when it sends PROXY headers (`pool-low-conn`): above the
 * 64 client connections of the shipped profiles' largest load points, with room; measured effect at 64 in the
 * comment where it is used.
 */
export const proxiedIdleConnections = 128;

const nameRe = /^[A-Za-z0-9_.-]+$/;
const ipRe = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Renders one HAProxy configuration file (HAProxy 2.x syntax; checked against the Debian 2.6 build). Throws a
 * RangeError for anything HAProxy would misread or reject: a bad name, address, port, worker count, a route to
 * a missing backend, or HTTP/2 asked of a `mode tcp` proxy.
 *
 * Timeouts are idle timeouts of connections, not request deadlines (the load client keeps its own per request):
 * an HTTP/2 connection carries every request of a step and sits idle between a slow schedule's requests, so
 * they are an hour, longer than any step, and never cut a connection in the middle of a run.
 */
export function renderHaproxyConfig(spec: HaproxySpec): string {
  if (!Number.isInteger(spec.workers) || spec.workers < 1 || spec.workers > 64) throw new RangeError(`workers must be 1..64, not ${spec.workers}`);
  const backendNames = new Set(spec.backends.map((b) => b.name));
  const out: string[] = [
    '# rendered by meshbench; one proxy of one run',
    'global',
    `    nbthread ${spec.workers}`,
    '    maxconn 8000',
    '    ssl-default-bind-options ssl-min-ver TLSv1.2',
    '    ssl-default-server-options ssl-min-ver TLSv1.2',
    '',
    'defaults',
    '    timeout connect 5s',
    '    timeout client 1h',
    '    timeout server 1h',
    '    timeout tunnel 1h',
    '    timeout http-keep-alive 1h',
    '',
  ];
  for (const f of spec.frontends) {
    check(f.name);
    if (!backendNames.has(f.defaultBackend)) throw new RangeError(`frontend ${f.name}: no backend ${f.defaultBackend}`);
    const bind = [`    bind 0.0.0.0:${port(f.port)}`];
    if (f.acceptProxy === true) bind.push('accept-proxy');
    if (f.tls !== undefined) bind.push(`ssl crt ${f.tls.crt} ca-file ${f.tls.ca} verify required`);
    if (f.http === 'h2') {
      if (f.mode !== 'http') throw new RangeError(`frontend ${f.name}: HTTP/2 needs mode http, not ${f.mode}`);
      // ALPN for TLS clients that negotiate; proto h2 for those that do not (an L4 proxy's TLS) and for h2c.
      if (f.tls !== undefined) bind.push('alpn h2');
      bind.push('proto h2');
    }
    out.push(`frontend ${f.name}`, `    mode ${f.mode}`, bind.join(' '));
    for (const r of f.routes) {
      check(r.backend);
      if (!ipRe.test(r.dst)) throw new RangeError(`frontend ${f.name}: bad route address ${r.dst}`);
      if (!backendNames.has(r.backend)) throw new RangeError(`frontend ${f.name}: no backend ${r.backend}`);
      out.push(`    use_backend ${r.backend} if { dst ${r.dst} } { dst_port ${port(r.dstPort)} }`);
    }
    out.push(`    default_backend ${f.defaultBackend}`, '');
  }
  for (const b of spec.backends) {
    check(b.name);
    out.push(`backend ${b.name}`, `    mode ${b.mode}`, '    balance roundrobin');
    // HTTP/2 servers are multiplexed: every client's streams may share a next-hop connection, as Envoy's per-worker
    // HTTP/2 upstream pool does. With `safe`, HAProxy 2.6 opened one server connection per concurrent stream
    // (8 streams on one client connection: 8 connections per hop; `always`: 1; 4 client connections: 4 and 2).
    if (b.mode === 'http') out.push(b.servers.some((s) => s.http === 'h2') ? '    http-reuse always' : '    http-reuse safe');
    for (const s of b.servers) {
      check(s.name);
      if (!ipRe.test(s.address)) throw new RangeError(`backend ${b.name}: bad server address ${s.address}`);
      const line = [`    server ${s.name} ${s.address}:${port(s.port)}`];
      if (s.sendProxy === true) line.push('send-proxy-v2');
      if (s.tls !== undefined) line.push(`ssl crt ${s.tls.crt} ca-file ${s.tls.ca} verify required`);
      if (s.http === 'h2') {
        if (b.mode !== 'http') throw new RangeError(`backend ${b.name}: HTTP/2 to server ${s.name} needs mode http, not ${b.mode}`);
        if (s.tls !== undefined) line.push('alpn h2');
        line.push('proto h2');
        // A PROXY header makes each client's server connections its own (the header is part of the reuse key), and
        // an HTTP/2 stream leaves its connection in the server's idle pool, which HAProxy trims down to its estimate
        // of connections needed: the waypoint then reconnected for ~0.56 of its gRPC calls (3,350 of 6,000, 1000
        // qps over 4 connections, 2 runs alike); keeping `pool-low-conn` idle ones it held 3-4 for the whole step.
        if (s.sendProxy === true) line.push(`pool-low-conn ${proxiedIdleConnections}`);
      } else if (s.sendProxy === true && b.mode === 'http') {
        // The same trimming with HTTP/1.1: the waypoint opened 2,967 tunnel connections for 3,000 requests (1000 qps
        // over 4 connections, 3 s), so its "connections" cost was a reconnect per request no mesh pays.
        line.push(`pool-low-conn ${proxiedIdleConnections}`);
      }
      out.push(line.join(' '));
    }
    out.push('');
  }
  return out.join('\n');
}

function check(name: string): void {
  if (!nameRe.test(name)) throw new RangeError(`bad haproxy name "${name}"`);
}

function port(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new RangeError(`bad port ${p}`);
  return p;
}
