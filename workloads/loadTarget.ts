export type LoadProtocol = 'http' | 'tcp';

export interface LoadTarget {
  readonly protocol: LoadProtocol;
  readonly host: string;
  readonly port: number;
  /** Request target for HTTP: path plus query ("/echo?delay=1ms"). */
  readonly path: string;
  /** Host header value as the user wrote it (without userinfo). */
  readonly authority: string;
  /** The URL as every output prints it: a password in it is replaced by `***`. */
  readonly url: string;
  /**
   * `Basic …` from the URL's userinfo, as curl sends it (user and password percent-decoded, RFC 7617);
   * undefined without userinfo. Goes on the wire only, never into a result.
   */
  readonly authorization: string | undefined;
}

/** Header names whose values are credentials: results echo them as `***`. */
const credentialHeaders = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** The headers with credential values replaced by `***`, for every output that echoes the options. */
export function redactHeaders(headers: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  return headers.map(([n, v]) => [n, credentialHeaders.has(n.toLowerCase()) ? '***' : v]);
}

function decodeUserinfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % is taken literally, as curl does
  }
}

export class TargetSyntaxError extends Error {}

/**
 * The URL text as typed with the password of its userinfo replaced by `***`, for messages about a URL that
 * did not parse (the parsed form is redacted by parseTarget itself): a password is never printed.
 */
export function redactUrlText(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/, '$1:***@');
}

/**
 * Accepts http://[user[:password]@]host[:port]/path?query and tcp://host:port (fortio's tcp:// form for
 * the TCP echo). Throws TargetSyntaxError with the form expected.
 */
export function parseTarget(text: string): LoadTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetSyntaxError(`"${redactUrlText(text)}" is not a URL; expected http://host:port/path or tcp://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'tcp:') {
    const hint = url.protocol === 'https:' ? ' (TLS to the target is not supported: meshes add mTLS between proxies, not at the client)' : '';
    throw new TargetSyntaxError(`unsupported scheme "${url.protocol.replace(':', '')}" in ${redactUrlText(text)}; use http:// or tcp://${hint}`);
  }
  if (url.hostname === '') throw new TargetSyntaxError(`no host in ${redactUrlText(text)}`);
  const protocol: LoadProtocol = url.protocol === 'http:' ? 'http' : 'tcp';
  if (protocol === 'tcp' && url.port === '') throw new TargetSyntaxError(`tcp:// needs a port: tcp://host:port`);
  const port = url.port === '' ? 80 : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    if (protocol === 'tcp') throw new TargetSyntaxError('tcp:// takes no user:password@; credentials are for http:// targets');
    authorization = `Basic ${Buffer.from(`${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`, 'utf8').toString('base64')}`;
    if (url.password !== '') url.password = '***';
  }
  return {
    protocol, host, port, path: `${url.pathname === '' ? '/' : url.pathname}${url.search}`, authority: url.host,
    url: url.toString(), authorization,
  };
}
