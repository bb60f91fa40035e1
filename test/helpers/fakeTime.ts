import type { Clock, TimerApi } from '../../workloads/clock';

interface Pending { id: number; atUs: number; fn: () => void }

/** A clock and timers that advance only when the test says so; immediates run on the next advance. */
export class FakeTime implements Clock, TimerApi {
  private now = 0;
  private nextId = 1;
  private pending: Pending[] = [];
  immediatesRun = 0;
  timeoutsRun = 0;

  nowUs(): number { return this.now; }
  setTimeout(fn: () => void, ms: number): unknown {
    const p = { id: this.nextId++, atUs: this.now + Math.max(0.001, ms) * 1000, fn };
    this.pending.push(p);
    return p.id;
  }
  clearTimeout(h: unknown): void { this.pending = this.pending.filter((p) => p.id !== h); }
  setImmediate(fn: () => void): unknown {
    const p = { id: this.nextId++, atUs: -1, fn };
    this.pending.push(p);
    return p.id;
  }
  clearImmediate(h: unknown): void { this.clearTimeout(h); }

  /** Advances time in steps of `stepUs`, running due timers and immediates (an immediate costs `stepUs`). */
  advance(totalUs: number, stepUs = 1): void {
    const end = this.now + totalUs;
    while (this.now < end) {
      const due = this.pending.filter((p) => p.atUs <= this.now);
      if (due.length === 0) {
        this.now = Math.min(end, this.now + stepUs);
        continue;
      }
      this.pending = this.pending.filter((p) => p.atUs > this.now);
      for (const p of due) {
        if (p.atUs < 0) this.immediatesRun += 1; else this.timeoutsRun += 1;
        p.fn();
      }
      this.now += stepUs;
    }
  }
}
