import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { detectCgroupLayout, meshbenchCgroupName } from '../../harness/cgroupTree';

/** Everything of meshbench's netns platform still on the machine; empty lists mean clean. */
export interface Leftovers {
  namespaces: string[];
  cgroupDirs: string[];
  rootIptables: string[];
  bpfLinks: string[];
  processes: string[];
  stateFiles: string[];
}

export function findLeftovers(): Leftovers {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };
  const namespaces = sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith('mb-'));
  const layout = detectCgroupLayout();
  const cgroupDirs = [layout.v2Mount, ...Object.values(layout.v1Mounts)].map((m) => path.join(m, meshbenchCgroupName)).filter((d) => fs.existsSync(d));
  const rootIptables = sh('iptables-save', []).split('\n').filter((l) => /MB-|198\.1[89]\./.test(l));
  const bpfLinks = sh('bpftool', ['link', 'list']).split('\n').filter((l) => /meshbench|mb_|kernel_dp/i.test(l));
  const processes: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/\/run\/meshbench\/run-|--net=\/run\/netns\/mb-|holdClient\.js|holdCluster\.js|echo --host 198\.1[89]\.|load http:\/\/198\.1[89]\./.test(cmd)) processes.push(`${pid} ${cmd.trim()}`);
    } catch {
      // gone
    }
  }
  const stateFiles = fs.existsSync('/run/meshbench') ? fs.readdirSync('/run/meshbench') : [];
  return { namespaces, cgroupDirs, rootIptables, bpfLinks, processes, stateFiles };
}

export function isRoot(): boolean {
  return process.getuid?.() === 0 && process.platform === 'linux';
}
