import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Clock } from './clock';
import type { WakeSource, WakeSourceFactory } from './earlyWakeTimers';
import type { Microseconds } from './units';

/*
 * The pure-JS wake source, for where the addon is absent (the bundled client in Kubernetes pods): one helper
 * thread sleeps on a futex with a sub-millisecond timeout (Atomics.wait) until the deadline, then wakes the
 * event loop with a message (uv_async). It costs two wake-ups per deadline (the thread, then the loop) where
 * the timerfd costs one, and it is as late as both together; wakeCalibration.ts measures that lateness.
 * Same algorithm as preciseTimers.ts (the load loop's timer before this one).
 */

/**
 * The helper thread's program, shared with preciseTimers.ts (the echo server's timer). Shared layout:
 * Int32 [0] = generation (bumped on every change), Float64 at byte 8 = deadline (epoch ms, 0 = none, -1 = exit).
 * It fires once per deadline, only if nobody moved it meanwhile.
 */
export const futexWorkerSource = `
const { workerData, parentPort } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const gen = new Int32Array(workerData, 0, 1);
const deadline = new Float64Array(workerData, 8, 1);
for (;;) {
  const g = Atomics.load(gen, 0);
  const d = deadline[0];
  if (d < 0) break;
  if (d === 0) { Atomics.wait(gen, 0, g); continue; }
  const remaining = d - (performance.timeOrigin + performance.now());
  if (remaining > 0) { Atomics.wait(gen, 0, g, remaining); continue; }
  if (Atomics.load(gen, 0) === g) { deadline[0] = 0; parentPort.postMessage(g); }
}
`;

/**
 * A WakeSource on a helper thread (see above). The thread is started at once (its start-up, tens of ms, would
 * otherwise make the first deadline late), is unreferenced
 * while nothing is armed (so it never keeps the process alive by itself) and is terminated by close().
 */
export function workerWakeSource(clock: Clock): WakeSourceFactory {
  return (onWake) => {
    const shared = new SharedArrayBuffer(16);
    const gen = new Int32Array(shared, 0, 1);
    const deadline = new Float64Array(shared, 8, 1);
    // Epoch ms = clock µs / 1000 + this offset (the worker reads its own performance.now(), hence epoch time).
    const offsetMs = performance.timeOrigin + performance.now() - clock.nowUs() / 1000;
    let open = true;
    const post = (value: number): void => {
      deadline[0] = value;
      Atomics.add(gen, 0, 1);
      Atomics.notify(gen, 0);
    };
    let worker: Worker | undefined = new Worker(futexWorkerSource, { eval: true, workerData: shared });
    worker.on('message', () => {
      if (!open) return;
      worker?.unref();
      onWake();
    });
    worker.unref();
    const source: WakeSource = {
      kind: 'worker',
      arm: (atUs: Microseconds) => {
        if (!open || worker === undefined) return;
        worker.ref();
        post(atUs / 1000 + offsetMs);
      },
      disarm: () => {
        if (!open || worker === undefined) return;
        worker.unref();
        post(0);
      },
      close: () => {
        if (!open) return;
        open = false;
        if (worker === undefined) return;
        post(-1);
        void worker.terminate();
        worker = undefined;
      },
    };
    return source;
  };
}
