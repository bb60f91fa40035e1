import * as bpf from '../../bpf/bpfBindings';
import { foldStacks, type StackSample } from './foldedStacks';
import { kernelSymbol, loadKernelSymbols, type KernelSymbols } from './kallsyms';
import { onlineCpus } from './onlineCpus';
import { userSymbolizer } from './userSymbols';

/** bpf/stacks.bpf.c's struct stack_key (bpf/stacks.h): u64 cgroup, u32 pid, s32 kstack, s32 ustack, u32 pad, comm[16]. */
const maxDepth = 127;

function decodeStack(h: bpf.ObjectHandle, id: number, cache: Map<number, bigint[]>): bigint[] {
  if (id < 0) return [];
  const hit = cache.get(id);
  if (hit !== undefined) return hit;
  const key = Buffer.alloc(4);
  key.writeUInt32LE(id);
  const v = bpf.mapLookup(h, 'stack_traces', key);
  const ips: bigint[] = [];
  if (v !== null) {
    for (let i = 0; i < maxDepth; i += 1) {
      const ip = v.readBigUInt64LE(i * 8);
      if (ip === 0n) break;
      ips.push(ip);
    }
  }
  cache.set(id, ips);
  return ips;
}

const efault = -14;

/**
 * A stack id the kernel could not give, or that resolves to nothing: -EFAULT only means "no such stack"
 * (no kernel frames in user mode); -EEXIST is a hash collision in the stack-trace map (bpf_get_stackid
 * without BPF_F_REUSE_STACKID keeps the older stack and drops this one), so the frames are unknown.
 * BPF_F_REUSE_STACKID would instead overwrite the older stack and silently give its earlier samples the
 * wrong frames; detecting the loss keeps every stack that is shown right.
 */
export function captureLost(stackId: number, ips: readonly bigint[]): boolean {
  if (stackId === efault) return false;
  return stackId < 0 || ips.length === 0;
}

/**
 * cpu-clock sampling of the registered cgroups: one software perf event per online CPU, each running the
 * stacks program, which keeps counts per (cgroup, pid, kernel stack, user stack) in the kernel.
 */
export class StackSampler {
  private fds: bpf.PerfFd[] = [];
  private links: bpf.LinkHandle[] = [];
  private ksyms: KernelSymbols | undefined;

  constructor(private readonly h: bpf.ObjectHandle) {}

  start(sampleHz: number): void {
    bpf.mapClear(this.h, 'stack_counts');
    bpf.mapClear(this.h, 'stack_traces');
    try {
      for (const cpu of onlineCpus()) {
        const fd = bpf.perfEventOpen({ type: bpf.PerfType.software, config: bpf.PerfSoftwareCounter.cpuClock, pid: -1, cpu, sampleFreqHz: sampleHz });
        this.fds.push(fd);
        this.links.push(bpf.attachPerfEvent(this.h, 'mb_sample', fd));
      }
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  stop(): void {
    for (const l of this.links) bpf.detach(l);
    for (const fd of this.fds) bpf.perfEventClose(fd);
    this.links = [];
    this.fds = [];
  }

  /** Folded stacks and sample counts per cgroup id. */
  read(): { folded: Map<string, string>; samples: Map<string, number> } {
    const cache = new Map<number, bigint[]>();
    const samples: StackSample[] = [];
    const pids = new Map<number, ReturnType<typeof userSymbolizer>>();
    const counts = new Map<string, number>();
    for (const [key, value] of bpf.mapDump(this.h, 'stack_counts')) {
      const cgroupId = key.readBigUInt64LE(0).toString();
      const count = Number(value.readBigUInt64LE(0));
      const pid = key.readUInt32LE(8);
      const kernelId = key.readInt32LE(12);
      const userId = key.readInt32LE(16);
      const kernelIps = decodeStack(this.h, kernelId, cache);
      const userIps = decodeStack(this.h, userId, cache);
      samples.push({
        cgroupId,
        pid,
        comm: key.subarray(24, 40).toString('latin1').replace(/\0.*$/s, ''),
        kernelIps,
        userIps,
        count,
        kernelStackLost: captureLost(kernelId, kernelIps),
        userStackLost: captureLost(userId, userIps),
      });
      if (!pids.has(pid)) pids.set(pid, userSymbolizer(pid));
      counts.set(cgroupId, (counts.get(cgroupId) ?? 0) + count);
    }
    if (samples.length > 0 && this.ksyms === undefined) this.ksyms = loadKernelSymbols();
    const ksyms = this.ksyms;
    const folded = foldStacks(
      samples,
      (ip) => (ksyms === undefined ? null : kernelSymbol(ksyms, ip)),
      (s) => pids.get(s.pid) ?? (() => null),
    );
    return { folded, samples: counts };
  }
}
