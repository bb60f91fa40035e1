export type LoadProtocol = 'http' | 'tcp';

export interface LoadTarget {
  readonly protocol: LoadProtocol;
  readonly host: string;
  readonly port: number;
  /** Request target for HTTP: path plus query ("/echo?delay=1ms"). */
  readonly path: string;
  /** Host header value as the user wrote it. */
  readonly authority: string;
  readonly url: string;
}

export class TargetSyntaxError extends Error {}

/** Accepts http://host[:port]/path?query and tcp://host:port (fortio's tcp:// form for the TCP echo). */
export function parseTarget(text: string): LoadTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetSyntaxError(`"${text}" is not a URL; expected http://host:port/path or tcp://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'tcp:') {
    const hint = url.protocol === 'https:' ? ' (TLS to the target is not supported: meshes add mTLS between proxies, not at the client)' : '';
    throw new TargetSyntaxError(`unsupported scheme "${url.protocol.replace(':', '')}" in ${text}; use http:// or tcp://${hint}`);
  }
  if (url.hostname === '') throw new TargetSyntaxError(`no host in ${text}`);
  const protocol: LoadProtocol = url.protocol === 'http:' ? 'http' : 'tcp';
  if (protocol === 'tcp' && url.port === '') throw new TargetSyntaxError(`tcp:// needs a port: tcp://host:port`);
  const port = url.port === '' ? 80 : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol, host, port, path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`, authority: url.host, url: url.toString() };
}
