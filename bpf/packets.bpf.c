// SPDX-License-Identifier: GPL-2.0
/* Packets and bytes per device and network namespace: every hop a proxy adds shows as more rows (lo, veth…).
 * Transmit hooks net:net_dev_start_xmit, the entry twin of net:net_dev_xmit: by net_dev_xmit, lo and veth have
 * already orphaned the skb (skb->sk = NULL), so only the entry still knows the sending socket, whose cgroup
 * owns the packet. Receive (net:netif_receive_skb) runs in softirq with no owner, so it is attributed to the
 * cgroup registered for the device's namespace (the session registers its components' private namespaces,
 * never the host's, which would count the whole machine). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "packets.h"

/* Indexed by registry slot: each CPU keeps its own small table of the devices the slot's packets crossed,
 * found by a short scan. A per-CPU hash keyed by (slot, direction, netns, ifindex) cost about 60 ns more per
 * packet on the development VM (a loopback round trip under the packets probe alone, median of 7). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, MAX_REGISTERED);
  __type(key, __u32);
  __type(value, struct slot_devices);
} packet_stats SEC(".maps");

/* Device names, read once per (netns, ifindex) instead of once per packet. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct device_key);
  __type(value, struct device_name);
} device_names SEC(".maps");

static __always_inline void count(int slot, const struct net_device *dev, __u32 netns, __u32 dir, __u32 len) {
  __u32 key = slot;
  struct slot_devices *d = bpf_map_lookup_elem(&packet_stats, &key);
  if (!d) return;
  __u32 ifindex = dev->ifindex;
  dir &= 1;
  for (int i = 0; i < DEVICES_PER_SLOT; i++) {
    struct device_counters *e = &d->devices[i];
    if (e->ifindex == 0) {
      /* First packet of this device on this CPU: claim the entry and make sure the name is known. The
       * program cannot run twice at once on one CPU, so nothing races for the entry. */
      struct device_key dk = {.netns = netns, .ifindex = ifindex};
      if (!bpf_map_lookup_elem(&device_names, &dk)) {
        struct device_name name = {};
        bpf_probe_read_kernel_str(&name.name, sizeof(name.name), dev->name);
        bpf_map_update_elem(&device_names, &dk, &name, BPF_NOEXIST);
      }
      e->netns = netns;
      e->ifindex = ifindex;
    } else if (e->ifindex != ifindex || e->netns != netns) {
      continue;
    }
    e->packets[dir] += 1;
    e->bytes[dir] += len;
    return;
  }
  d->overflow_packets[dir] += 1;
  d->overflow_bytes[dir] += len;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(mb_dev_xmit, const struct sk_buff *skb, const struct net_device *dev) {
  struct sock *sk = skb->sk;
  if (!sk) return 0;
  int slot = cgroup_slot(SOCK_CGROUP_ID_BTF(sk));
  if (slot < 0) return 0;
  count(slot, dev, dev->nd_net.net->ns.inum, PACKET_TX, skb->len);
  return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(mb_netif_rcv, struct sk_buff *skb) {
  if (!registry.netns_count) return 0;
  struct net_device *dev = skb->dev;
  if (!dev) return 0;
  __u32 netns = dev->nd_net.net->ns.inum;
  int slot = netns_slot(netns);
  if (slot < 0) return 0;
  count(slot, dev, netns, PACKET_RX, skb->len);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
