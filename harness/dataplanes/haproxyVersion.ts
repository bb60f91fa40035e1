/**
 * HAProxy's version as run.json records it, from the first line of `haproxy -v`
 * ("HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/" → "2.6.12-1+deb12u4"): the version
 * token alone, the release date and URL left out. Both places that ask (the tool versions every run records
 * and the data planes that start HAProxy) read it through this one function, so a run with a sidecar and one
 * without record the same form. Undefined when the text holds no version.
 */
export function haproxyVersionFrom(output: string): string | undefined {
  return /HAProxy version (\S+)/i.exec(output)?.[1] ?? /\bversion (\S+)/.exec(output)?.[1];
}
