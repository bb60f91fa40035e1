import type { Bytes, Microseconds } from './units';

/** What a protocol client tells the runner; one request in flight per connection (no pipelining, like wrk). */
export interface ConnectionEvents {
  /**
   * A whole response: its status (0 for TCP), its size on the wire and the size of its head (0 for TCP), as
   * fortio's Sizes and HeaderSizes. `answerKind`, when given, names an answer that is no success although its
   * status is none or OK (gRPC: `health:NOT_SERVING`, `not-grpc:text/plain`): counted as answered, under that
   * kind instead of its status, and among the errors.
   */
  onComplete(conn: ClientConnection, status: number, bytesReceived: Bytes, headerBytes: Bytes, answerKind?: string): void;
  onError(conn: ClientConnection, kind: string): void;
  /** A socket was opened for this connection (its first, or a reconnect). */
  onSocketOpened(conn: ClientConnection): void;
}

/** Protocol-agnostic view the runner schedules requests on. */
export interface ClientConnection {
  /** Its slot's index in the runner, 0 … c−1 (the runner finds the slot of a response by it). */
  readonly id: number;
  /** A request is in flight. */
  readonly busy: boolean;
  /** When the request was meant to go out (open loop) — latency is measured from here. */
  intendedUs: Microseconds;
  /** When it actually went out (or its connection started, when not keeping alive). */
  sentUs: Microseconds;
  /**
   * The request in flight (or the one that just had its outcome) was handed to a connected socket: the
   * runner counts its bytes as sent only then, so a refused connection sends 0 bytes (fortio and wrk count
   * bytes written, not requests issued). False from `send` until the write; a reconnect for a GOAWAY retry
   * keeps it true once it was.
   */
  readonly requestWritten: boolean;
  send(intendedUs: Microseconds, nowUs: Microseconds): void;
  /**
   * Opens the keep-alive socket now, before the measured window (as wrk and fortio connect before they
   * start the clock). Resolves once connected or failed, never rejects: a failure shows on the first send.
   * Does nothing without keep-alive, where connection setup is part of what is measured.
   */
  preconnect(): Promise<void>;
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
