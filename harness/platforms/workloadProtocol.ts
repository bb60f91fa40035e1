import type { WorkloadProtocol } from '../profile/profileSchema';

/*
 * How each workload protocol is asked of the workloads, the same on every platform: the echo server's flag and
 * the URL the load client is given (its scheme picks the client's protocol).
 */

/**
 * `meshbench echo` flags for a protocol: none for `http` (the echo's default, HTTP/1.1), else
 * `--protocol http2|grpc|tcp` (`http2` is h2c with prior knowledge; `grpc` is fortio's ping service over h2c).
 */
export function echoProtocolArgs(protocol: WorkloadProtocol): string[] {
  return protocol === 'http' ? [] : ['--protocol', protocol];
}

/**
 * The load client's target for a protocol at `hostPort` ("198.19.0.10:80", "name.ns.svc.cluster.local:8080"):
 * `http://hostPort/`, `h2c://hostPort/` (HTTP/2 with prior knowledge), `grpc://hostPort` (gRPC over h2c; a
 * gRPC target has no path, the method is the ping service's) or `tcp://hostPort`.
 */
export function protocolTargetUrl(protocol: WorkloadProtocol, hostPort: string): string {
  switch (protocol) {
    case 'http': return `http://${hostPort}/`;
    case 'http2': return `h2c://${hostPort}/`;
    case 'grpc': return `grpc://${hostPort}`;
    case 'tcp': return `tcp://${hostPort}`;
  }
}
