import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';

/** bpf/copy.bpf.c; fields of struct copy_counters (bpf/copy.h) in order. */
const fields = 10;

export const copyProbe: ProbeDefinition = {
  name: 'copy',
  object: 'copy',
  variants: [{ hook: 'tp_btf sock:sock_send_length, sock:sock_recv_length, skb:skb_copy_datagram_iovec', programs: ['mb_send_len', 'mb_recv_len', 'mb_skb_copy'] }],
  statsMaps: ['copy_stats'],
  optional: false,
  decode(dump, cpus) {
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('copy_stats')) {
      const [sent, sendCalls, received, recvCalls, unixSent, unixReceived, , , copied, copyCalls] = sumPerCpuU64(value, fields, cpus);
      out.set(key.readBigUInt64LE(0).toString(), {
        bytesSent: sent ?? 0, sendCalls: sendCalls ?? 0, bytesReceived: received ?? 0, receiveCalls: recvCalls ?? 0,
        bytesSentUnix: unixSent ?? 0, bytesReceivedUnix: unixReceived ?? 0, bytesCopied: copied ?? 0, copyCalls: copyCalls ?? 0,
      });
    }
    return out;
  },
};
