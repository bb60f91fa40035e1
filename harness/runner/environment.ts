import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { MachineInfo } from '../results/resultTypes';
import { haproxyVersionFrom } from '../dataplanes/haproxyVersion';
import { meshbenchVersion } from '../version';

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    kernel: os.release(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

function firstLine(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0 || r.error !== undefined) return undefined;
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim();
}

/** meshbench's own version and git commit (when run from a checkout), and the tools it drives. */
export function toolVersions(): Record<string, string> {
  const repo = path.join(__dirname, '..', '..', '..');
  const v: Record<string, string> = { meshbench: meshbenchVersion(), node: process.version };
  const commit = firstLine('git', ['-C', repo, 'rev-parse', 'HEAD']);
  if (commit !== undefined) {
    const dirty = spawnSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim() !== '';
    v.gitCommit = dirty ? `${commit}-dirty` : commit;
  }
  const haproxy = firstLine('haproxy', ['-v']);
  const haproxyVersion = haproxy === undefined ? undefined : haproxyVersionFrom(haproxy);
  if (haproxyVersion !== undefined) v.haproxy = haproxyVersion;
  const envoy = firstLine('envoy', ['--version']);
  if (envoy !== undefined) v.envoy = envoy;
  return v;
}
