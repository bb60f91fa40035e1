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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct packet_key);
  __type(value, struct packet_counters);
} packet_stats SEC(".maps");

/* Device names, read once per (netns, ifindex) instead of once per packet. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, struct device_key);
  __type(value, struct device_name);
} device_names SEC(".maps");

static const struct packet_counters zero_counters;

static __always_inline void count(int slot, const struct net_device *dev, __u32 netns, __u32 dir, __u32 len) {
  struct packet_key key = {.slot = slot, .direction = dir, .netns = netns, .ifindex = dev->ifindex};
  struct packet_counters *c = bpf_map_lookup_elem(&packet_stats, &key);
  if (!c) {
    struct device_key dk = {.netns = netns, .ifindex = key.ifindex};
    struct device_name name = {};
    bpf_probe_read_kernel_str(&name.name, sizeof(name.name), dev->name);
    bpf_map_update_elem(&device_names, &dk, &name, BPF_ANY);
    bpf_map_update_elem(&packet_stats, &key, &zero_counters, BPF_NOEXIST);
    c = bpf_map_lookup_elem(&packet_stats, &key);
    if (!c) return;
  }
  c->packets += 1;
  c->bytes += len;
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
