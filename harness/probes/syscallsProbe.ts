import type { CallTime } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';
import { x86_64SyscallNames } from './syscallNames';
import { slotCgroup } from './registry';

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
  statsMaps: ['syscall_stats'],
  optional: false,
  decode(dump, cpus, slots, tuning) {
    const byCgroup = new Map<string, Record<string, CallTime>>();
    for (const [key, value] of dump('syscall_stats')) {
      const index = key.readUInt32LE(0);
      const cg = slotCgroup(slots, Math.floor(index / maxSyscallNr));
      if (cg === undefined) continue;
      const [count, timeNs] = sumPerCpuU64(value, 2, cpus);
      if (count === 0) continue;
      const names = byCgroup.get(cg) ?? {};
      byCgroup.set(cg, names);
      const name = syscallName(index % maxSyscallNr);
      const prev = names[name] ?? { count: 0, timeUs: 0 };
      names[name] = { count: prev.count + (count ?? 0), timeUs: tuning?.syscallTime === true ? (prev.timeUs ?? 0) + (timeNs ?? 0) / 1000 : null };
    }
    const out = new Map<string, RecordPart>();
    for (const [cg, byName] of byCgroup) {
      const sorted = Object.fromEntries(Object.entries(byName).sort((a, b) => b[1].count - a[1].count));
      const total = Object.values(byName).reduce((a, c) => a + c.count, 0);
      const timeUs = tuning?.syscallTime === true ? Object.values(byName).reduce((a, c) => a + (c.timeUs ?? 0), 0) : null;
      partFor(out, cg).syscalls = { total, timeUs, byName: sorted };
    }
    return out;
  },
};
