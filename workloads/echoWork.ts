import type { Clock, TimerApi } from './clock';
import { burnCpu, openChurner, openCopier, startSwitcher, type Churner, type Copier, type Switcher } from './calibrationWork';
import type { DeadlineQueue } from './deadlineQueue';
import type { ResolvedReply } from './echoControls';
import type { EchoServerStats } from './echoServer';

/**
 * The per-request work the HTTP/2 and gRPC echo servers do before a reply, in the HTTP/1.1 server's order
 * (echoServer.ts): the calibration controls' known work (burn, switches, copies, then connects, issue 14),
 * then the delay, then the reply. Counts what the calibration did in `stats.calibration`.
 */
export class ReplyWork {
  private copier: Copier | undefined;
  private copierOpening: Promise<void> | undefined;
  private churner: Churner | undefined;
  private churnerOpening: Promise<void> | undefined;
  private switcher: Switcher | undefined;
  private switcherOpening: Promise<void> | undefined;

  constructor(private readonly stats: EchoServerStats, private readonly clock: Clock, private readonly deadlines: DeadlineQueue, readonly timers: TimerApi) {}

  /**
   * Does `reply`'s work, then calls `send` (after its delay, µs). `replyBytes` is what `copies` passes
   * through the kernel; `alive` is checked before each step (the client may have gone: the reply is dropped).
   * A helper that cannot open calls `onError` instead of `send`.
   */
  perform(reply: ResolvedReply, replyBytes: () => Buffer, alive: () => boolean, send: () => void, onError: () => void): void {
    const afterWork = (): void => {
      if (!alive()) return;
      if (reply.delayUs <= 0) send();
      else this.deadlines.schedule(this.clock.nowUs() + reply.delayUs, () => { if (alive()) send(); });
    };
    const calibrated = reply.burnUs > 0 || reply.copies > 0 || reply.connects > 0 || reply.switches > 0;
    if (!calibrated) {
      afterWork();
      return;
    }
    const run = (): void => {
      if (!alive()) return;
      burnCpu(reply.burnUs);
      if (reply.switches > 0) this.stats.calibration.switchHandoffs += (this.switcher as Switcher).switches(reply.switches);
      if (reply.copies > 0) this.stats.calibration.bytesCopied += (this.copier as Copier).pass(replyBytes(), reply.copies);
      if (reply.connects <= 0) { afterWork(); return; }
      (this.churner as Churner).churn(reply.connects, (failed) => {
        this.stats.calibration.connectionsChurned += reply.connects - failed;
        this.stats.calibration.connectFailures += failed;
        afterWork();
      });
    };
    const pending: Promise<unknown>[] = [];
    if (reply.copies > 0 && this.copier === undefined) pending.push(this.copierOpening ??= openCopier().then((c) => { this.copier = c; this.stats.calibration.copiesPath = c.path; }));
    if (reply.connects > 0 && this.churner === undefined) pending.push(this.churnerOpening ??= openChurner().then((c) => { this.churner = c; this.stats.calibration.connectsPath = c.path; }));
    if (reply.switches > 0 && this.switcher === undefined) pending.push(this.switcherOpening ??= startSwitcher().then((c) => { this.switcher = c; this.stats.calibration.switchesPath = c.path; }));
    if (pending.length > 0) Promise.all(pending).then(run, () => { this.stats.internalErrors += 1; onError(); });
    else run();
  }

  close(): void {
    this.copier?.close();
    this.churner?.close();
    void this.switcher?.close();
  }
}

/** Fresh counters for an echo server (EchoServerStats), all zero. */
export function emptyEchoStats(): EchoServerStats {
  return {
    connectionsAccepted: 0, requests: 0, bytesReceived: 0, bytesSent: 0, rejected: 0, rejectedByCode: {}, continuesSent: 0, internalErrors: 0,
    calibration: { bytesCopied: 0, connectionsChurned: 0, connectFailures: 0, switchHandoffs: 0 },
  };
}
