import { spawn } from 'node:child_process';
import path from 'node:path';
import type { LoadResult } from '../../workloads/loadResult';
import { MeshbenchError } from '../errors';
import { ownPerfMap, perfMapNodeFlag, rememberProcess, removePerfMap } from '../probes/userSymbols';
import { realtimeSafeNodeFlag } from '../../workloads/realtimeWait';
import type { LoadPoint } from '../results/resultTypes';
import type { LoadInvocation } from './platformSession';

/** The built CLI, for starting workloads as their own processes (in a namespace, a cgroup, a pod). */
export const cliScript = path.join(__dirname, '..', 'cli.js');

/**
 * The load client's flags that depend on the protocol of a load point (the URL's scheme, set by the platform,
 * picks the protocol itself): `--streams N` concurrent streams per connection for HTTP/2 and gRPC, h2load's `-m`
 * and fortio's `-s`; none for HTTP/1.1 and TCP, which carry one request at a time per connection.
 */
export function protocolLoadArgs(p: Pick<LoadPoint, 'protocol' | 'streams'>): string[] {
  return p.protocol === 'http2' || p.protocol === 'grpc' ? ['--streams', String(p.streams ?? 1)] : [];
}

/**
 * The runner's progress figures from one load client progress event: P99 null until the client has a
 * figure (it sends null, or nothing, before its first request completes), so no display shows 0 µs for it.
 */
export function progressOf(e: { readonly qpsLastInterval?: number; readonly p99Us?: number | null }): { qpsLastInterval: number; p99Us: number | null } {
  return { qpsLastInterval: e.qpsLastInterval ?? 0, p99Us: e.p99Us ?? null };
}

/**
 * Runs `meshbench load --events --json -` behind `prefix` (e.g. ["ip", "netns", "exec", "mb-pod1"] or a
 * cgroup-entering wrapper) and returns its result. Events on stderr bound the measured window (`measuring`,
 * `done`, each with the client's rusage) and drive progress; the JSON
 * result arrives on stdout. Aborting sends SIGINT, which makes the client stop and still print its result;
 * the step is discarded by the runner anyway.
 */
export function runLoadProcess(prefix: readonly string[], invocation: LoadInvocation): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    if (invocation.signal.aborted) {
      reject(new MeshbenchError('interrupted before the load client started'));
      return;
    }
    // The perf map names the client's JS frames in flame graphs; its mappings are kept once it measures, as it
    // exits before the step's stacks are read.
    const argv = [...prefix, process.execPath, perfMapNodeFlag, realtimeSafeNodeFlag, cliScript, 'load', ...invocation.args, '--events', '--json', '-'];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) ownPerfMap(child.pid);
    let measured = false;
    let stdout = '';
    let stderrTail = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      pending += d.toString();
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        if (line.startsWith('{"meshbenchEvent":true')) {
          const e = JSON.parse(line) as { event: string; qpsLastInterval?: number; p99Us?: number | null; cpuUserUs?: number; cpuSystemUs?: number };
          const cpu = e.cpuUserUs === undefined || e.cpuSystemUs === undefined ? undefined : { cpuUserUs: e.cpuUserUs, cpuSystemUs: e.cpuSystemUs };
          if (e.event === 'measuring') {
            measured = true;
            if (child.pid !== undefined) rememberProcess(child.pid);
            invocation.onMeasuring(cpu);
          } else if (e.event === 'done') invocation.onWindowEnd?.(cpu);
          else if (e.event === 'progress') invocation.onProgress(progressOf(e));
        } else {
          stderrTail = `${stderrTail}${line}\n`.slice(-2000);
        }
      }
    });
    const onAbort = (): void => { child.kill('SIGINT'); };
    invocation.signal.addEventListener('abort', onAbort);
    child.on('error', (err) => reject(new MeshbenchError(`could not start the load client: ${err.message}`)));
    child.on('close', (code, sig) => {
      invocation.signal.removeEventListener('abort', onAbort);
      // No stacks are read for a client that never measured: its perf map goes now.
      if (!measured && child.pid !== undefined) removePerfMap(child.pid);
      try {
        resolve(JSON.parse(stdout) as LoadResult);
      } catch {
        const last = stderrTail.trim().split('\n').pop() ?? '';
        const why = last !== '' ? last : sig !== null ? `killed by ${sig}` : `exit code ${String(code)}, no output`;
        reject(new MeshbenchError(`the load client failed: ${why}`));
      }
    });
  });
}
