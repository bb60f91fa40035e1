import { EnvironmentError, MeshbenchError } from '../../errors';
import type { KubeApi } from './kubeClient';

/*
 * Waiting the way kubectl wait does: a watch on a list path (which first replays every existing object as
 * ADDED), a predicate over the objects seen so far, a timeout whose message says what was last seen, and a
 * fresh watch when the server ends one early.
 */

export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
}

export interface WatchUntilOptions<T extends KubeObject, R> {
  readonly api: KubeApi;
  /** e.g. /api/v1/namespaces/NS/pods */
  readonly path: string;
  readonly query?: Record<string, string>;
  /** Done when this returns a value (not undefined); it sees every object currently known. */
  readonly until: (objects: readonly T[]) => R | undefined;
  /** A failure that should stop the wait early (a pod that cannot start), as a message; undefined to keep waiting. */
  readonly failed?: (objects: readonly T[]) => string | undefined;
  readonly timeoutMs: number;
  /** The timeout's message, from what was seen last. */
  readonly describeTimeout: (objects: readonly T[]) => string;
  readonly signal?: AbortSignal;
}

export async function watchUntil<T extends KubeObject, R>(o: WatchUntilOptions<T, R>): Promise<R> {
  const objects = new Map<string, T>();
  const list = (): T[] => [...objects.values()];
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let controller: AbortController | undefined;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      controller?.abort();
      f();
    };
    const check = (): void => {
      const failure = o.failed?.(list());
      if (failure !== undefined) { finish(() => reject(new EnvironmentError(failure))); return; }
      const value = o.until(list());
      if (value !== undefined) finish(() => resolve(value));
    };
    const timer = setTimeout(() => finish(() => reject(new EnvironmentError(o.describeTimeout(list())))), o.timeoutMs);
    const onAbort = (): void => finish(() => reject(new MeshbenchError('interrupted')));
    o.signal?.addEventListener('abort', onAbort);
    let failuresInARow = 0;
    const start = (): void => {
      if (settled) return;
      objects.clear();
      o.api.watch.watch(o.path, { ...o.query }, (phase: string, obj: T) => {
        failuresInARow = 0;
        const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
        if (phase === 'DELETED') objects.delete(key);
        else if (phase === 'ADDED' || phase === 'MODIFIED') objects.set(key, obj);
        check();
      }, (err: unknown) => {
        if (settled) return;
        if (err !== null && err !== undefined && !(err instanceof Error && err.name === 'AbortError')) {
          failuresInARow += 1;
          const translated = o.api.translate(err, `watch ${o.path}`);
          if (failuresInARow >= 3 || translated.exitCode === 2) { finish(() => reject(translated)); return; }
        }
        setTimeout(start, 200); // the server ended the watch (timeout, restart): watch again
      }).then((c) => {
        controller = c;
        if (settled) c.abort();
      }, (err: unknown) => finish(() => reject(o.api.translate(err, `watch ${o.path}`))));
    };
    start();
  });
}
