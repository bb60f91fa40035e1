import type { CallTime } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';
import { x86_64SyscallNames } from './syscallNames';
import { slotCgroup } from './registry';
import { scaleCount } from './timeSlicer';

export function syscallName(nr: number, arch = process.arch): string {
  return (arch === 'x64' ? x86_64SyscallNames[nr] : undefined) ?? `syscall_${nr}`;
}

/** bpf/syscalls.bpf.c; per-CPU array indexed slot * maxSyscallNr + nr of {u64 count; u64 time_ns}. */
export const maxSyscallNr = 512;

export const syscallsProbe: ProbeDefinition = {
  name: 'syscalls',
  object: 'syscalls',
  variants: [
    { hook: 'tp_btf raw_syscalls:sys_exit (count)', programs: ['mb_sys_exit'] },
    { hook: 'raw_tp raw_syscalls:sys_exit (count)', programs: ['mb_sys_exit_raw'] },
  ],
  tune(tuning) {
    const rodata: Record<string, Buffer> = tuning.syscallTime ? { measure_time: Buffer.from([1]) } : {};
    return { programs: tuning.syscallTime ? ['mb_sys_enter'] : [], rodata };
  },
  // The hottest hook (every syscall of every task takes the slow path while it is attached): the lean set counts
  // in time slices and scales, perf-multiplexing style (harness/probes/timeSlicer.ts).
  lean: { programs: ['mb_sys_exit', 'mb_sys_exit_raw', 'mb_sys_enter'], sliced: ['mb_sys_exit', 'mb_sys_exit_raw'] },
  statsMaps: ['syscall_stats'],
  optional: false,
  decode(dump, cpus, slots, tuning, context) {
    const share = context?.countedShare ?? 1;
    const timed = tuning?.syscallTime === true;
    const byCgroup = new Map<string, Record<string, { count: number; timeNs: number }>>();
    for (const [key, value] of dump('syscall_stats')) {
      const index = key.readUInt32LE(0);
      const cg = slotCgroup(slots, Math.floor(index / maxSyscallNr));
      if (cg === undefined) continue;
      const [count, timeNs] = sumPerCpuU64(value, 2, cpus);
      if (count === 0) continue;
      const names = byCgroup.get(cg) ?? {};
      byCgroup.set(cg, names);
      const name = syscallName(index % maxSyscallNr);
      const prev = names[name] ?? { count: 0, timeNs: 0 };
      names[name] = { count: prev.count + (count ?? 0), timeNs: prev.timeNs + (timeNs ?? 0) };
    }
    const out = new Map<string, RecordPart>();
    for (const [cg, raw] of byCgroup) {
      const byName: Record<string, CallTime> = {};
      for (const [name, c] of Object.entries(raw).sort((x, y) => y[1].count - x[1].count)) {
        byName[name] = { count: share < 1 ? (scaleCount(c.count, share) ?? 0) : c.count, timeUs: timed ? c.timeNs / 1000 : null };
      }
      const total = Object.values(byName).reduce((a, c) => a + c.count, 0);
      const timeUs = timed ? Object.values(byName).reduce((a, c) => a + (c.timeUs ?? 0), 0) : null;
      const part = partFor(out, cg);
      part.syscalls = { total, timeUs, byName, countedShare: share };
      if (share < 1) {
        const counted = Object.values(raw).reduce((a, c) => a + c.count, 0);
        part.sources = { syscalls: `raw_syscalls:sys_exit in time slices, ${(share * 100).toFixed(1)} % of the window: ${counted} counted, scaled by 1 / ${share.toFixed(4)} (perf's multiplexing rule; exact for a steady rate)` };
      }
    }
    return out;
  },
};

