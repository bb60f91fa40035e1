import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';
import { slotCgroup } from './registry';

/** bpf/copy.bpf.c; per-CPU array by registry slot of struct copy_counters (bpf/copy.h). */
const fields = 10;

export const copyProbe: ProbeDefinition = {
  name: 'copy',
  object: 'copy',
  variants: [{ hook: 'tp_btf sock:sock_send_length, sock:sock_recv_length, skb:skb_copy_datagram_iovec', programs: ['mb_send_len', 'mb_recv_len', 'mb_skb_copy'] }],
  statsMaps: ['copy_stats'],
  optional: false,
  decode(dump, cpus, slots) {
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('copy_stats')) {
      const [sent, sendCalls, received, recvCalls, unixSent, unixReceived, , , copied, copyCalls] = sumPerCpuU64(value, fields, cpus);
      const cg = slotCgroup(slots, key.readUInt32LE(0));
      if (cg === undefined) continue;
      out.set(cg, {
        bytesSent: sent ?? 0, sendCalls: sendCalls ?? 0, bytesReceived: received ?? 0, receiveCalls: recvCalls ?? 0,
        bytesSentUnix: unixSent ?? 0, bytesReceivedUnix: unixReceived ?? 0, bytesCopied: copied ?? 0, copyCalls: copyCalls ?? 0,
      });
    }
    return out;
  },
};
