/** A second SIGINT/SIGTERM sooner than this after the first is the same interrupt delivered twice, not "force". */
export const forcedAfterMs = 500;

/**
 * What one SIGINT/SIGTERM asks of `meshbench run`: `stop` (the first: stop after the current step and clean
 * up), `repeat` (the same interrupt again, ignored), `force` (a second Ctrl-C: exit at once, `meshbench
 * cleanup` removes the rest).
 */
export type InterruptAction = 'stop' | 'repeat' | 'force';

/**
 * Tells a user's second Ctrl-C from one interrupt delivered twice. coreutils `timeout` signals its command and
 * then the command's process group, which holds the command too, so `timeout -s INT 8 meshbench run …` delivers
 * one interrupt as two signals microseconds apart; forcing on the second left the cluster behind (2 of 6 runs).
 * A signal within forcedAfterMs of the first is taken as that same interrupt; a person's second Ctrl-C comes
 * later. `nowMs` is injected (milliseconds, any monotonic origin) so the decision is tested without signals.
 */
export class InterruptSignals {
  private firstMs: number | null = null;

  constructor(private readonly nowMs: () => number = () => performance.now(), private readonly repeatWithinMs: number = forcedAfterMs) {}

  /** The action for a signal arriving now. */
  next(): InterruptAction {
    const now = this.nowMs();
    if (this.firstMs === null) {
      this.firstMs = now;
      return 'stop';
    }
    return now - this.firstMs < this.repeatWithinMs ? 'repeat' : 'force';
  }
}
