import type { CallTime } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';

const functions = ['tcp_sendmsg', 'tcp_recvmsg'];

/** bpf/extras.bpf.c: time inside tcp_sendmsg/tcp_recvmsg, via fentry/fexit or kprobes where the kernel allows. */
export const extrasProbe: ProbeDefinition = {
  name: 'extras',
  object: 'extras',
  variants: [
    { hook: 'fentry/fexit tcp_sendmsg, tcp_recvmsg', programs: ['mb_fe_sendmsg', 'mb_fx_sendmsg', 'mb_fe_recvmsg', 'mb_fx_recvmsg'] },
    { hook: 'kprobe/kretprobe tcp_sendmsg, tcp_recvmsg', programs: ['mb_kp_sendmsg', 'mb_kr_sendmsg', 'mb_kp_recvmsg', 'mb_kr_recvmsg'] },
  ],
  statsMaps: ['function_times'],
  optional: true,
  decode(dump, cpus) {
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('function_times')) {
      const cg = key.readBigUInt64LE(0).toString();
      const fn = functions[key.readUInt32LE(8)] ?? 'unknown';
      const [calls, timeNs] = sumPerCpuU64(value, 2, cpus);
      const part = partFor(out, cg);
      const times: Record<string, CallTime> = { ...(part.functionTimes ?? {}) };
      times[fn] = { count: calls ?? 0, timeUs: (timeNs ?? 0) / 1000 };
      part.functionTimes = times;
    }
    return out;
  },
};
