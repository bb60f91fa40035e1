import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { log2Quantile } from './log2Histogram';
import { readU64Fields } from './perCpuValues';
import { slotCgroup } from './registry';
import { TcpSnmpSource } from './counterSources';

/** bpf/connections.bpf.c; struct connection_counters (bpf/connections.h): 9 counters then 32 log2 slots. */
const counters = 9;
const histSlots = 32;

export const connectionsProbe: ProbeDefinition = {
  name: 'connections',
  object: 'connections',
  variants: [{ hook: 'tp_btf sock:inet_sock_set_state, tcp:tcp_retransmit_skb, tcp:tcp_send_reset, tcp:tcp_receive_reset', programs: ['mb_sk_state', 'mb_retransmit', 'mb_rst_send', 'mb_rst_recv'] }],
  // Retransmits and RSTs sent are in every namespace's Tcp MIB; connection life cycle, handshake time and RSTs
  // received have no kernel counter per component, and keep their hooks (events per connection, not per request).
  lean: { programs: ['mb_sk_state', 'mb_rst_recv'], source: () => new TcpSnmpSource() },
  statsMaps: ['connection_stats', 'syn_sent_at'],
  optional: false,
  decode(dump, _cpus, slots, _tuning, context) {
    const counted = (program: string): boolean => context === undefined || context.attached.has(program);
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('connection_stats')) {
      const v = readU64Fields(value, counters + histSlots);
      const [opened, accepted, established, closed, failed, retransmits, rstSent, rstReceived, handshakeNs] = v;
      const hist = v.slice(counters);
      const cg = slotCgroup(slots, key.readUInt32LE(0));
      if (cg === undefined) continue;
      out.set(cg, {
        connectionsOpened: opened ?? 0, connectionsAccepted: accepted ?? 0, connectionsEstablished: established ?? 0,
        connectionsClosed: closed ?? 0, connectFailures: failed ?? 0,
        ...(counted('mb_retransmit') ? { retransmits: retransmits ?? 0 } : {}),
        ...(counted('mb_rst_send') ? { resetsSent: rstSent ?? 0 } : {}),
        resetsReceived: rstReceived ?? 0,
        handshakeUsMean: (established ?? 0) > 0 ? (handshakeNs ?? 0) / 1000 / (established as number) : null,
        handshakeUsP50: log2Quantile(hist, 0.5), handshakeUsP99: log2Quantile(hist, 0.99), handshakeUsLog2: hist,
      });
    }
    return out;
  },
};
