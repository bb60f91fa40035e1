import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';
import { slotCgroup } from './registry';

/** bpf/copy.bpf.c; per-CPU array by registry slot of struct copy_counters (bpf/copy.h). */
const fields = 10;

export const copyProbe: ProbeDefinition = {
  name: 'copy',
  object: 'copy',
  variants: [{ hook: 'tp_btf sock:sock_send_length, sock:sock_recv_length, skb:skb_copy_datagram_iovec', programs: ['mb_send_len', 'mb_recv_len', 'mb_skb_copy'] }],
  // skb_copy_datagram_iovec fires once per skb copied on receive, the same bytes sock_recv_length already
  // counts per recvmsg: the lean set derives bytesCopied from those and drops the hook (2 events per request).
  lean: { programs: ['mb_send_len', 'mb_recv_len'] },
  statsMaps: ['copy_stats'],
  optional: false,
  decode(dump, cpus, slots, _tuning, context) {
    const derived = context !== undefined && !context.attached.has('mb_skb_copy');
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('copy_stats')) {
      const [sent, sendCalls, received, recvCalls, unixSent, unixReceived, , otherReceived, copied, copyCalls] = sumPerCpuU64(value, fields, cpus);
      const cg = slotCgroup(slots, key.readUInt32LE(0));
      if (cg === undefined) continue;
      out.set(cg, {
        bytesSent: sent ?? 0, sendCalls: sendCalls ?? 0, bytesReceived: received ?? 0, receiveCalls: recvCalls ?? 0,
        bytesSentUnix: unixSent ?? 0, bytesReceivedUnix: unixReceived ?? 0,
        ...(derived
          ? {
            bytesCopied: (received ?? 0) + (unixReceived ?? 0) + (otherReceived ?? 0),
            copyCalls: null,
            sources: { bytesCopied: 'bytes recvmsg returned, every socket family (sock:sock_recv_length, MSG_PEEK aside): the same bytes skb_copy_datagram_iovec copies, plus what sk_msg redirects hand over' },
            unmeasured: { copyCalls: 'skb copies are counted only by the full hook set (skb:skb_copy_datagram_iovec)' },
          }
          : { bytesCopied: copied ?? 0, copyCalls: copyCalls ?? 0 }),
      });
    }
    return out;
  },
};
