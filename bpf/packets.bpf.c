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

/* netns inode -> cgroup id that owns the namespace's receive traffic. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, MAX_CGROUPS);
  __type(key, __u32);
  __type(value, __u64);
} netns_owner SEC(".maps");

static const struct packet_counters zero_counters;

static __always_inline __u32 dev_netns(const struct net_device *dev) {
  return BPF_CORE_READ(dev, nd_net.net, ns.inum);
}

static __always_inline void count(__u64 cg, const struct net_device *dev, __u32 netns, __u32 dir, __u32 len) {
  struct packet_key key = {.cgroup = cg, .netns = netns, .direction = dir};
  BPF_CORE_READ_STR_INTO(&key.device, dev, name);
  struct packet_counters *c = lookup_or_init(&packet_stats, &key, &zero_counters);
  if (c) {
    c->packets += 1;
    c->bytes += len;
  }
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(mb_dev_xmit, const struct sk_buff *skb, const struct net_device *dev) {
  struct sock *sk = skb->sk;
  if (!sk) return 0;
  __u64 cg = sock_cgroup_id(sk);
  if (!cgroup_registered(cg)) return 0;
  count(cg, dev, dev_netns(dev), PACKET_TX, skb->len);
  return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(mb_netif_rcv, struct sk_buff *skb) {
  struct net_device *dev = skb->dev;
  if (!dev) return 0;
  __u32 netns = dev_netns(dev);
  __u64 *cg = bpf_map_lookup_elem(&netns_owner, &netns);
  if (!cg) return 0;
  count(*cg, dev, netns, PACKET_RX, skb->len);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
