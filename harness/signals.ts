import type { Microseconds } from '../workloads/units';

/** Resolves on SIGINT/SIGTERM or after `durationUs`, whichever comes first, and removes its handlers. */
export function waitForStop(durationUs?: Microseconds): Promise<'signal' | 'timeout'> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (why: 'signal' | 'timeout'): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (timer !== undefined) clearTimeout(timer);
      resolve(why);
    };
    const onSignal = (): void => finish('signal');
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (durationUs !== undefined) timer = setTimeout(() => finish('timeout'), durationUs / 1000);
  });
}
