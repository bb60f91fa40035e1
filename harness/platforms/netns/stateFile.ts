import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../../errors';

/*
 * What a run has created, written before each thing is created, so `meshbench cleanup` can remove it even
 * after `kill -9`. Cleanup also finds everything by name (`mb-*` namespaces, the `meshbench` cgroup root,
 * /sys/fs/bpf/meshbench), so a lost state file loses nothing.
 */

export const defaultStateDir = '/run/meshbench';

export interface ClusterState {
  readonly runId: string;
  /** The process that owns the run; a dead owner means a crashed run. */
  readonly pid: number;
  readonly startedAt: string;
  namespaces: string[];
  /** Cgroup name under the meshbench root (run-<id>). */
  cgroup: string;
  /** Folder with configs and certificates. */
  workDir: string;
  /** bpffs pins a run made (recorded before pinning). The BPF addon holds its links by file descriptor and pins nothing. */
  bpfPins: string[];
}

export function stateFilePath(stateDir = defaultStateDir): string {
  return path.join(stateDir, 'state.json');
}

export function readState(stateDir = defaultStateDir): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFilePath(stateDir), 'utf8')) as ClusterState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A torn or foreign file still means "something may be left": report it as present.
    return { runId: 'unknown', pid: 0, startedAt: '', namespaces: [], cgroup: '', workDir: '', bpfPins: [] };
  }
}

export function writeState(state: ClusterState, stateDir = defaultStateDir): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const file = stateFilePath(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

/** Takes the state file for a new run, refusing while a previous run's state is present. */
export function claimState(state: ClusterState, stateDir = defaultStateDir): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  const file = stateFilePath(stateDir);
  const previous = readState(stateDir);
  if (previous !== undefined) {
    const alive = previous.pid > 0 && pidAlive(previous.pid);
    throw new EnvironmentError(
      `a previous meshbench cluster (run ${previous.runId}${alive ? `, still running as pid ${previous.pid}` : ', its process is gone'}) left state in ${file}`,
      alive ? 'wait for it to finish, or stop it and run meshbench cleanup' : 'run meshbench cleanup first',
    );
  }
  // O_EXCL: two runs starting together cannot both win.
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new EnvironmentError(`another meshbench cluster is starting (${file} appeared)`, 'run meshbench cleanup once it has stopped');
    }
    throw err;
  }
  fs.writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
  fs.closeSync(fd);
}

export function removeState(stateDir = defaultStateDir): void {
  fs.rmSync(stateFilePath(stateDir), { force: true });
  try {
    fs.rmdirSync(stateDir);
  } catch {
    // not empty or gone: fine
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
