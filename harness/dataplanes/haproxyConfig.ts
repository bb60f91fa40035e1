/*
 * HAProxy configuration as data, rendered from one template. Pure, so tests check what a data plane asks of
 * its proxies without starting any. Every proxy meshbench runs is one of these.
 */

export type ProxyMode = 'http' | 'tcp';

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
}

export interface ServerSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly sendProxy?: boolean;
  /** Originate mTLS to this server. */
  readonly tls?: TlsFiles;
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

const nameRe = /^[A-Za-z0-9_.-]+$/;
const ipRe = /^\d{1,3}(\.\d{1,3}){3}$/;

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
    '    timeout client 120s',
    '    timeout server 120s',
    '    timeout tunnel 1h',
    '    timeout http-keep-alive 120s',
    '',
  ];
  for (const f of spec.frontends) {
    check(f.name);
    if (!backendNames.has(f.defaultBackend)) throw new RangeError(`frontend ${f.name}: no backend ${f.defaultBackend}`);
    const bind = [`    bind 0.0.0.0:${port(f.port)}`];
    if (f.acceptProxy === true) bind.push('accept-proxy');
    if (f.tls !== undefined) bind.push(`ssl crt ${f.tls.crt} ca-file ${f.tls.ca} verify required`);
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
    if (b.mode === 'http') out.push('    http-reuse safe');
    for (const s of b.servers) {
      check(s.name);
      if (!ipRe.test(s.address)) throw new RangeError(`backend ${b.name}: bad server address ${s.address}`);
      const line = [`    server ${s.name} ${s.address}:${port(s.port)}`];
      if (s.sendProxy === true) line.push('send-proxy-v2');
      if (s.tls !== undefined) line.push(`ssl crt ${s.tls.crt} ca-file ${s.tls.ca} verify required`);
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
