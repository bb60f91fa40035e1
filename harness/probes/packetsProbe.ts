import type { PacketRow } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { sumPerCpuU64 } from './perCpuValues';
import { slotCgroup } from './registry';

/** bpf/packets.bpf.c; key struct packet_key {u32 slot, direction, netns, ifindex}; names in device_names. */
export const packetsProbe: ProbeDefinition = {
  name: 'packets',
  object: 'packets',
  variants: [{ hook: 'tp_btf net:net_dev_start_xmit (sending socket), net:netif_receive_skb (namespace owner)', programs: ['mb_dev_xmit', 'mb_netif_rcv'] }],
  statsMaps: ['packet_stats', 'device_names'],
  optional: false,
  // Receive is attributed by namespace: without a private one registered, the hook would only cost.
  needed: (program, session) => program !== 'mb_netif_rcv' || session.privateNetns,
  decode(dump, cpus, slots) {
    const names = new Map<string, string>();
    for (const [k, v] of dump('device_names')) names.set(`${k.readUInt32LE(0)}/${k.readUInt32LE(4)}`, v.toString('latin1').replace(/\0.*$/s, ''));
    const rows = new Map<string, PacketRow[]>();
    for (const [key, value] of dump('packet_stats')) {
      const cg = slotCgroup(slots, key.readUInt32LE(0));
      if (cg === undefined) continue;
      const netns = key.readUInt32LE(8);
      const ifindex = key.readUInt32LE(12);
      const device = names.get(`${netns}/${ifindex}`) ?? `if${ifindex}`;
      const [packets, bytes] = sumPerCpuU64(value, 2, cpus);
      const list = rows.get(cg) ?? [];
      rows.set(cg, list);
      list.push({ device, netns, direction: key.readUInt32LE(4) === 0 ? 'tx' : 'rx', packets: packets ?? 0, bytes: bytes ?? 0 });
    }
    const out = new Map<string, RecordPart>();
    for (const [cg, list] of rows) {
      partFor(out, cg).packets = list.sort((a, b) => a.netns - b.netns || a.device.localeCompare(b.device) || a.direction.localeCompare(b.direction));
    }
    return out;
  },
};
