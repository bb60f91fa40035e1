import type { Bytes, Microseconds } from './units';

/** What a protocol client tells the runner; one request in flight per connection (no pipelining, like wrk). */
export interface ConnectionEvents {
  onComplete(conn: ClientConnection, status: number, bytesReceived: Bytes): void;
  onError(conn: ClientConnection, kind: string): void;
  onSocketOpened(): void;
}

/** Protocol-agnostic view the runner schedules requests on. */
export interface ClientConnection {
  readonly id: number;
  /** A request is in flight. */
  readonly busy: boolean;
  /** When the request was meant to go out (open loop) — latency is measured from here. */
  intendedUs: Microseconds;
  /** When it actually went out (or its connection started, when not keeping alive). */
  sentUs: Microseconds;
  send(intendedUs: Microseconds, nowUs: Microseconds): void;
  /** Drops the in-flight request (timeouts) and the socket; the next send reconnects. */
  abort(): void;
  close(): void;
}

/** Error kinds as users of wrk and fortio name them; unknown codes pass through as they are. */
export function errorKind(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return 'socket-error';
}
