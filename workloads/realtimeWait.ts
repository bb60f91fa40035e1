import { describeError } from '../harness/errors';
import type { Microseconds } from './units';

/**
 * When and how the load loop's thread waits for a deadline under SCHED_FIFO (sched(7)).
 *
 * Why: at low rates (20 QPS, 50 ms sleeps) the send lag's tail is the guest scheduler, not the timer. Measured
 * here (2 vCPUs, kernel 6.18, HZ=250, helpers compiling, load average 1–3; a C loop sleeping to absolute deadlines
 * every 50 ms, 1,200 wake-ups per variant, slack 1 ns):
 *   - SCHED_OTHER, pinned: lateness p50 21 µs, p99 3,843 µs, max 7.8 ms; 45 wake-ups > 1 ms. Through a timerfd
 *     and epoll (libuv's path) the same: p99 467 µs–4 ms between runs.
 *   - SCHED_FIFO while waiting, pinned: p50 24 µs, p99 100 µs, max 107 µs; none > 300 µs. With a CPU hog on the
 *     same core: p99 21 µs, max 73 µs (SCHED_OTHER with the hog: p99 287 µs, max 3.9 ms).
 *   - A 500 µs early wake-up then a spin (the adaptive margin alone): p99 2,052 µs: the spinning thread is itself
 *     preempted. Hops of 100 µs sleeps over the last 4 ms: p99 2,615 µs. A 0.1 ms EEVDF slice (sched_setattr):
 *     p99 3,920 µs.
 * The ~4 ms tail is one scheduler tick: a woken SCHED_OTHER task that does not win EEVDF's wake-up preemption
 * (the running task keeps its protected slice) waits for the next tick, 4 ms at HZ=250. The host is not the cause:
 * under SCHED_FIFO the halted vCPU woke within 107 µs every time. A realtime waker preempts SCHED_OTHER at once.
 *
 * Bounded so that a bug can never starve the data plane sharing the core: the thread is realtime only while
 * sleeps are long (`minSleepUs`: a low rate, so little work runs at that priority), and RLIMIT_RTTIME demotes it
 * (SIGXCPU, handled natively by returning the thread to SCHED_OTHER) after `rtTimeSoftUs` of realtime CPU
 * without blocking, so a runaway callback holds the core for at most that long; at `rtTimeHardUs` the kernel
 * kills it (the backstop if the demotion failed). Its children start
 * as SCHED_OTHER (SCHED_RESET_ON_FORK). When the kernel refuses (no CAP_SYS_NICE nor RLIMIT_RTPRIO, or a cgroup
 * with no realtime budget under CONFIG_RT_GROUP_SCHED), the loop carries on as SCHED_OTHER and says why.
 */
export interface RealtimeWaitOptions {
  /** Sleeps at least this long (µs) are waited for under SCHED_FIFO; shorter ones (higher rates) never are. */
  readonly minSleepUs: Microseconds;
  /** SCHED_FIFO priority, 1–99: the lowest, 1, is enough to preempt every SCHED_OTHER task. */
  readonly priority: number;
  /** RLIMIT_RTTIME soft limit (µs of CPU without blocking): past it the thread is demoted to SCHED_OTHER. */
  readonly rtTimeSoftUs: number;
  /** RLIMIT_RTTIME hard limit (µs): past it the kernel sends SIGKILL. */
  readonly rtTimeHardUs: number;
}

/**
 * Defaults. 10 ms sleeps and up (≤ 100 QPS): where the vCPU idles between sends and the tail above shows; at
 * 1,000 QPS and more the bars are met without it, and the loop does too much work to run it realtime.
 * The soft limit, 1 s: measured, with 100 ms and 250 ms soft limits the load loop at 20 QPS got SIGXCPU after
 * 9–20 s in 5 of 6 runs (one 20 s run with 10 s: none), although its longest realtime stretch without sleeping
 * was 0.7 ms, while a C loop doing 2 ms of work every 50 ms under a 100 ms limit never did: how the kernel's count
 * adds up for Node's thread is not understood. So the limit bounds a runaway (it holds the core for at most
 * ~1 s) and a demotion is noticed and reported ('demoted'), never fatal. The hard limit, 10 s, is never reached
 * once demoted (SCHED_OTHER time is not counted).
 */
export const defaultRealtimeWait: RealtimeWaitOptions = {
  minSleepUs: 10_000,
  priority: 1,
  rtTimeSoftUs: 1_000_000,
  rtTimeHardUs: 10_000_000,
};

/**
 * The Node flag a load client must be started with for its thread to wait realtime: V8's memory reducer starts an
 * idle-time GC 8 s after start (MemoryReducer::kLongDelayMs, src/heap/memory-reducer.cc), and on a SCHED_FIFO
 * main thread that GC ran ~1 s without a context switch (20 QPS × 1, client pinned to one core, 13 s runs, twice:
 * the main thread's run time +730 to +1,000 ms in ~1 s, all threads 1,620 ms against 614 ms with this flag),
 * most likely spinning on V8's helper threads, ordinary tasks that cannot run on that core while it is runnable.
 * It is a V8 flag, so it cannot come through NODE_OPTIONS, and v8.setFlagsFromString at run time was measured
 * not to help: the launcher (`meshbench`), the runner (loadProcess.ts) and the benches pass it on the command line.
 */
export const realtimeSafeNodeFlag = '--no-memory-reducer';

/**
 * Why this process must not wait realtime, or undefined when it may: a node started without
 * realtimeSafeNodeFlag (`execArgv`: process.execArgv) would spin its memory-reducer GC at realtime priority.
 */
export function realtimeWaitBlocker(execArgv: readonly string[]): string | undefined {
  return execArgv.includes(realtimeSafeNodeFlag) ? undefined
    : `node was started without ${realtimeSafeNodeFlag} (V8's memory-reducer GC would spin ~1 s at realtime priority); run meshbench through its launcher`;
}

/**
 * The one line `meshbench load` prints (stderr) when its loop asked to wait realtime and did not (`reason`:
 * RealtimeWait.reason, e.g. realtimeWaitBlocker's): what it costs, so a send-lag tail of a scheduler tick is not
 * taken for the target's.
 */
export function realtimeWaitNote(reason: string): string {
  return `note: the send loop waited as an ordinary task, not SCHED_FIFO, so its send lag may include scheduler ticks (~4 ms): ${reason}`;
}

/**
 * Verbs that refuse every promotion with `why` (RealtimeWait then reports 'refused' and that reason), for a
 * process realtimeWaitBlocker rules out.
 */
export function refusingRealtimeVerbs(why: string): RealtimeVerbs {
  return {
    setRealtimeWait(priority: number): void {
      if (priority > 0) throw new Error(why);
    },
    schedPolicy: (): string => 'other',
  };
}

/** The two scheduling calls RealtimeWait needs (the addon's setRealtimeWait and schedPolicy; fakes in tests). */
export interface RealtimeVerbs {
  /** priority 1–99: SCHED_FIFO with the RLIMIT_RTTIME guard; 0: back to SCHED_OTHER. Throws when refused. */
  setRealtimeWait(priority: number, rtTimeSoftUs: number, rtTimeHardUs: number): void;
  /** The calling thread's policy now: 'fifo' while promoted, 'other' once demoted. */
  schedPolicy(): string;
}

/**
 * Where a RealtimeWait stands: never promoted yet, waiting realtime now, back to SCHED_OTHER by its own choice,
 * demoted by the RLIMIT_RTTIME guard (never promoted again in this run), or refused by the kernel.
 */
export type RealtimeWaitState = 'unused' | 'on' | 'off' | 'demoted' | 'refused';

/**
 * Switches the loop's thread between SCHED_FIFO and SCHED_OTHER around long waits (see RealtimeWaitOptions for
 * why and the bounds). `beforeSleep(sleepUs)` is called when the loop arms its wake-up, `leave()` when it has
 * nothing long to wait for. A system call only on a change of state, so a steady low rate stays realtime with
 * no per-request cost. The first refusal turns it off for good (`state` 'refused', `reason` says why).
 */
export class RealtimeWait {
  private current: RealtimeWaitState = 'unused';
  private why = '';

  constructor(
    private readonly verbs: RealtimeVerbs,
    private readonly options: RealtimeWaitOptions = defaultRealtimeWait,
  ) {}

  get state(): RealtimeWaitState {
    return this.current;
  }

  /** Why it was refused or demoted ('' otherwise). */
  get reason(): string {
    return this.why;
  }

  /** The loop is about to sleep `sleepUs` (µs) until its next wake-up: realtime if that is long enough, else not. */
  beforeSleep(sleepUs: Microseconds): void {
    if (sleepUs >= this.options.minSleepUs) this.enter();
    else this.leave();
  }

  /**
   * Notices a demotion by the RLIMIT_RTTIME guard (its SIGXCPU handler works behind our back): then the state
   * is 'demoted' and the thread is never promoted again in this run. One sched_getscheduler, ~0.3 µs; called once
   * per wake-up at the low rates where the thread is realtime.
   */
  private stillRealtime(): boolean {
    if (this.verbs.schedPolicy() === 'fifo') return true;
    this.current = 'demoted';
    this.why = `demoted to SCHED_OTHER by RLIMIT_RTTIME (${this.options.rtTimeSoftUs / 1000} ms of realtime CPU)`;
    return false;
  }

  /** Back to SCHED_OTHER (a no-op unless on). Never throws: a failure to demote leaves the RLIMIT_RTTIME guard. */
  leave(): void {
    if (this.current !== 'on' || !this.stillRealtime()) return;
    try {
      this.verbs.setRealtimeWait(0, 0, 0);
    } catch {
      // Only a thread that vanished could fail here; the rlimit still bounds it.
    }
    this.current = 'off';
  }

  private enter(): void {
    if (this.current === 'on') {
      this.stillRealtime();
      return;
    }
    if (this.current === 'refused' || this.current === 'demoted') return;
    const o = this.options;
    try {
      this.verbs.setRealtimeWait(o.priority, o.rtTimeSoftUs, o.rtTimeHardUs);
      this.current = 'on';
    } catch (err) {
      this.current = 'refused';
      this.why = describeError(err).line;
    }
  }
}
