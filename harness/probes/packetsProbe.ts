import type { PacketRow } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';

/** bpf/packets.bpf.c; key struct packet_key {u64 cgroup; u32 netns; u32 direction; char device[16]}. */
export const packetsProbe: ProbeDefinition = {
  name: 'packets',
  object: 'packets',
  variants: [{ hook: 'tp_btf net:net_dev_start_xmit (sending socket), net:netif_receive_skb (namespace owner)', programs: ['mb_dev_xmit', 'mb_netif_rcv'] }],
  statsMaps: ['packet_stats'],
  optional: false,
  decode(dump, cpus) {
    const rows = new Map<string, PacketRow[]>();
    for (const [key, value] of dump('packet_stats')) {
      const cg = key.readBigUInt64LE(0).toString();
      const device = key.subarray(16, 32).toString('latin1').replace(/\0.*$/s, '');
      const [packets, bytes] = sumPerCpuU64(value, 2, cpus);
      const list = rows.get(cg) ?? [];
      rows.set(cg, list);
      list.push({ device, netns: key.readUInt32LE(8), direction: key.readUInt32LE(12) === 0 ? 'tx' : 'rx', packets: packets ?? 0, bytes: bytes ?? 0 });
    }
    const out = new Map<string, RecordPart>();
    for (const [cg, list] of rows) {
      partFor(out, cg).packets = list.sort((a, b) => a.netns - b.netns || a.device.localeCompare(b.device) || a.direction.localeCompare(b.direction));
    }
    return out;
  },
};
