import type net from 'node:net';

/** The listening backlog of every echo server: 4096, so a burst of connects (max mode, many connections) is not refused (Linux caps it at net.core.somaxconn). */
export const listenBacklog = 4096;

/**
 * Listens on `host`:`port` (0: any free port) with listenBacklog; resolves with the address bound, rejects with
 * the listen error (EADDRINUSE, EACCES…) for the caller to name. For net and node:http2 servers alike.
 */
export function listenOn(server: net.Server, host: string, port: number): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, backlog: listenBacklog }, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}
