import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors';
import { run, tryRun } from '../platforms/netns/exec';
import { requireMeshbenchCgroup, type SteeringBpf } from './steeringLoader';
import { steeringMaps, steeringPrograms, type MapEntry, type SteeringMap, type SteeringProgram } from './steeringMaps';

/*
 * The fallback loader: bpftool, with the programs and maps pinned under /sys/fs/bpf/meshbench/run-<id>
 * (recorded in the run's state file before they exist, so `meshbench cleanup` removes them after kill -9).
 * Cgroup attachments made this way are held by the cgroup, not a process: they end when the data plane
 * detaches them or when the run's cgroups are removed, which both uninstall and cleanup do.
 */

const bpffsMount = '/sys/fs/bpf';
const attachTypeOf: Readonly<Record<string, string>> = { [steeringPrograms.connect4]: 'connect4', [steeringPrograms.sockops]: 'sock_ops' };

export interface BpftoolSteeringOptions {
  /** The compiled object (bpf/.output/kernelSteering.bpf.o). */
  readonly objectPath: string;
  /** Pin folder, below /sys/fs/bpf/meshbench. */
  readonly pinDir: string;
  /** The run's cgroup v2 folder: the only tree attachments may go to. */
  readonly runCgroupV2Path: string;
  /** Called with the pin folder before anything is pinned there. */
  readonly recordPin: (pin: string) => void;
}

export async function openSteeringWithBpftool(options: BpftoolSteeringOptions): Promise<SteeringBpf> {
  if (!fs.existsSync(options.objectPath)) {
    throw new EnvironmentError(`the kernel data plane's BPF object ${options.objectPath} is not built`, 'run bash ci/setup.sh');
  }
  await ensureBpffs();
  options.recordPin(options.pinDir);
  fs.mkdirSync(options.pinDir, { recursive: true });
  const progs = path.join(options.pinDir, 'progs');
  const maps = path.join(options.pinDir, 'maps');
  const attached: Array<{ program: SteeringProgram; cgroup: string }> = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const a of attached.splice(0)) {
      await tryRun(['bpftool', 'cgroup', 'detach', a.cgroup, attachTypeOf[a.program] ?? '', 'pinned', path.join(progs, a.program)]);
    }
    await tryRun(['bpftool', 'prog', 'detach', 'pinned', path.join(progs, steeringPrograms.skMsg), 'sk_msg_verdict', 'pinned', path.join(maps, steeringMaps.sockets)]);
    // Unpinning drops the last references: programs and maps are freed.
    fs.rmSync(options.pinDir, { recursive: true, force: true });
  };
  try {
    await run(['bpftool', 'prog', 'loadall', options.objectPath, progs, 'pinmaps', maps]);
    await run(['bpftool', 'prog', 'attach', 'pinned', path.join(progs, steeringPrograms.skMsg), 'sk_msg_verdict', 'pinned', path.join(maps, steeringMaps.sockets)]);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    loader: 'bpftool',
    async attachCgroup(program: SteeringProgram, cgroupV2Path: string): Promise<void> {
      const cgroup = requireMeshbenchCgroup(cgroupV2Path, options.runCgroupV2Path);
      const type = attachTypeOf[program];
      if (type === undefined) throw new RangeError(`${program} is not a cgroup program`);
      await run(['bpftool', 'cgroup', 'attach', cgroup, type, 'pinned', path.join(progs, program), 'multi']);
      attached.push({ program, cgroup });
    },
    async update(map: SteeringMap, entry: MapEntry): Promise<void> {
      await run(['bpftool', 'map', 'update', 'pinned', path.join(maps, map), 'key', 'hex', ...hex(entry.key), 'value', 'hex', ...hex(entry.value)]);
    },
    async dump(map: SteeringMap): Promise<MapEntry[]> {
      return parseBpftoolDump(await run(['bpftool', '-j', 'map', 'dump', 'pinned', path.join(maps, map)]));
    },
    close,
  };
}

function hex(b: Buffer): string[] {
  return [...b].map((x) => x.toString(16).padStart(2, '0'));
}

interface BpftoolDumpRow {
  key?: string[];
  value?: string[];
  values?: Array<{ cpu: number; value: string[] }>;
}

/** `bpftool -j map dump` rows to raw entries; per-CPU values concatenated in CPU order (the addon's layout). */
export function parseBpftoolDump(json: string): MapEntry[] {
  const rows = JSON.parse(json) as BpftoolDumpRow[];
  const bytes = (h: readonly string[] | undefined): Buffer => Buffer.from((h ?? []).map((x) => parseInt(x, 16)));
  return rows.map((r) => ({
    key: bytes(r.key),
    value: r.values !== undefined ? Buffer.concat([...r.values].sort((a, b) => a.cpu - b.cpu).map((v) => bytes(v.value))) : bytes(r.value),
  }));
}

/** bpftool pins need bpffs at its usual place; machines without systemd may not have mounted it. */
async function ensureBpffs(): Promise<void> {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[1] === bpffsMount && l.split(' ')[2] === 'bpf')) return;
  await run(['mount', '-t', 'bpf', 'bpf', bpffsMount]);
}
