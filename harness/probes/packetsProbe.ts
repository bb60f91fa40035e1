import type { PacketRow } from './probeRecord';
import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { partFor } from './probeDefinition';
import { slotCgroup } from './registry';
import { NetDeviceSource } from './counterSources';

/* bpf/packets.bpf.c: a per-CPU array by registry slot of struct slot_devices (bpf/packets.h), a table of
 * DEVICES_PER_SLOT entries {u32 netns, u32 ifindex, u64 packets[2], u64 bytes[2]} then overflow packets[2],
 * bytes[2]; each CPU orders its table by first packet, so rows are merged by (netns, ifindex). */
const devicesPerSlot = 15;
const entryBytes = 40;
const slotBytes = devicesPerSlot * entryBytes + 32;
const directions = ['tx', 'rx'] as const;

export const packetsProbe: ProbeDefinition = {
  name: 'packets',
  object: 'packets',
  variants: [{ hook: 'tp_btf net:net_dev_start_xmit (sending socket), net:netif_receive_skb (namespace owner)', programs: ['mb_dev_xmit', 'mb_netif_rcv'] }],
  // Every device counts its packets and bytes: the lean set reads them per private namespace at the edges.
  lean: { programs: [], source: () => new NetDeviceSource() },
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
      if (value.length < slotBytes * cpus) throw new RangeError(`packet_stats value of ${value.length} bytes, expected ${slotBytes * cpus}`);
      const merged = new Map<string, { device: string; netns: number; packets: number[]; bytes: number[] }>();
      const add = (id: string, device: string, netns: number, packets: number[], bytes: number[]): void => {
        const row = merged.get(id) ?? { device, netns, packets: [0, 0], bytes: [0, 0] };
        merged.set(id, row);
        for (const d of [0, 1]) {
          row.packets[d] = (row.packets[d] as number) + (packets[d] as number);
          row.bytes[d] = (row.bytes[d] as number) + (bytes[d] as number);
        }
      };
      const u64 = (at: number): number => Number(value.readBigUInt64LE(at));
      for (let cpu = 0; cpu < cpus; cpu += 1) {
        const base = cpu * slotBytes;
        for (let i = 0; i < devicesPerSlot; i += 1) {
          const at = base + i * entryBytes;
          const ifindex = value.readUInt32LE(at + 4);
          if (ifindex === 0) break;
          const netns = value.readUInt32LE(at);
          add(`${netns}/${ifindex}`, names.get(`${netns}/${ifindex}`) ?? `if${ifindex}`, netns, [u64(at + 8), u64(at + 16)], [u64(at + 24), u64(at + 32)]);
        }
        const over = base + devicesPerSlot * entryBytes;
        add('other', 'other', 0, [u64(over), u64(over + 8)], [u64(over + 16), u64(over + 24)]);
      }
      const list: PacketRow[] = [];
      for (const row of merged.values()) {
        directions.forEach((direction, d) => {
          if ((row.packets[d] as number) > 0) list.push({ device: row.device, netns: row.netns, direction, packets: row.packets[d] as number, bytes: row.bytes[d] as number });
        });
      }
      if (list.length > 0) rows.set(cg, list);
    }
    const out = new Map<string, RecordPart>();
    for (const [cg, list] of rows) {
      partFor(out, cg).packets = list.sort((a, b) => a.netns - b.netns || a.device.localeCompare(b.device) || a.direction.localeCompare(b.direction));
    }
    return out;
  },
};
