/**
 * `http`: HTTP/1.1 in cleartext; `http2`: HTTP/2 (h2c with prior knowledge, or h2 over TLS when `tls`);
 * `grpc`: gRPC over h2c (or h2 over TLS when `tls`, grpcs://); `tcp`: raw TCP echo.
 */
export type LoadProtocol = 'http' | 'http2' | 'grpc' | 'tcp';

export interface LoadTarget {
  readonly protocol: LoadProtocol;
  /** TLS to the target (https://, grpcs://): HTTP/2 negotiated with ALPN `h2`. */
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** Request target for HTTP: path plus query ("/echo?delay=1ms"); for gRPC the method's path ("" when the URL gave none). */
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

/** The URL schemes the load client speaks, and the protocol each selects. */
const schemes: Readonly<Record<string, LoadProtocol>> = { 'http:': 'http', 'h2c:': 'http2', 'https:': 'http2', 'grpc:': 'grpc', 'grpcs:': 'grpc', 'tcp:': 'tcp' };
/** The schemes over TLS (ALPN h2). */
const tlsSchemes = new Set(['https:', 'grpcs:']);
const expectedForms = 'http://host:port/path, h2c://host:port/path, https://host:port/path, grpc://host:port, grpcs://host:port or tcp://host:port';

/**
 * Accepts http://[user[:password]@]host[:port]/path?query (HTTP/1.1), h2c://… (HTTP/2 with prior
 * knowledge, RFC 9113 §3.3, as h2load's `http://` and curl's --http2-prior-knowledge), https://… (HTTP/2
 * over TLS, ALPN `h2`), grpc://host:port[/package.Service/Method] (gRPC over h2c; port required, as fortio's
 * -grpc destinations carry one), grpcs://… (the same over TLS, ALPN `h2`: grpc-go's TLS transport credentials;
 * the certificate is not checked, as for https://) and tcp://host:port (fortio's tcp:// form for the TCP echo). Throws
 * TargetSyntaxError with the form expected.
 */
export function parseTarget(text: string): LoadTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TargetSyntaxError(`"${redactUrlText(text)}" is not a URL; expected ${expectedForms}`);
  }
  const protocol = schemes[url.protocol];
  if (protocol === undefined) {
    throw new TargetSyntaxError(`unsupported scheme "${url.protocol.replace(':', '')}" in ${redactUrlText(text)}; use ${expectedForms}`);
  }
  const tls = tlsSchemes.has(url.protocol);
  // WHATWG URL leaves non-special schemes (h2c:, grpc:, tcp:) with an empty host when "//" is missing.
  if (url.hostname === '') throw new TargetSyntaxError(`no host in ${redactUrlText(text)}`);
  if ((protocol === 'tcp' || protocol === 'grpc') && url.port === '') {
    throw new TargetSyntaxError(`${url.protocol}// needs a port: ${url.protocol}//host:port`);
  }
  const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    if (protocol === 'tcp' || protocol === 'grpc') throw new TargetSyntaxError(`${url.protocol}// takes no user:password@; credentials are for HTTP targets`);
    authorization = `Basic ${Buffer.from(`${decodeUserinfo(url.username)}:${decodeUserinfo(url.password)}`, 'utf8').toString('base64')}`;
    if (url.password !== '') url.password = '***';
  }
  const path = protocol === 'grpc'
    ? (url.pathname === '/' ? '' : url.pathname)
    : `${url.pathname === '' ? '/' : url.pathname}${url.search}`;
  return { protocol, tls, host, port, path, authority: url.host, url: url.toString(), authorization };
}
