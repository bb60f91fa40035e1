// SPDX-License-Identifier: GPL-2.0
/* Bytes through sockets and bytes copied out of skbs, per cgroup. sock_send_length/sock_recv_length fire in
 * sock_sendmsg/sock_recvmsg (so readv/writev of proxies count); skb_copy_datagram_iovec is the receive copy.
 * All three run in the calling task's context, so current's cgroup is the owner. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "copy.h"

#define MSG_PEEK 2

/* Indexed by registry slot. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, MAX_REGISTERED);
  __type(key, __u32);
  __type(value, struct copy_counters);
} copy_stats SEC(".maps");

static __always_inline struct copy_counters *counters(void) {
  int slot = cgroup_slot(CURRENT_CGROUP_ID_BTF());
  if (slot < 0) return NULL;
  __u32 key = slot;
  return bpf_map_lookup_elem(&copy_stats, &key);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(mb_send_len, struct sock *sk, int ret, int flags) {
  if (ret <= 0) return 0;
  struct copy_counters *c = counters();
  if (!c) return 0;
  __u16 family = sk->__sk_common.skc_family;
  if (family == AF_INET || family == AF_INET6) {
    c->inet_sent_bytes += ret;
    c->inet_send_calls += 1;
  } else if (family == AF_UNIX) {
    c->unix_sent_bytes += ret;
  } else {
    c->other_sent_bytes += ret;
  }
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(mb_recv_len, struct sock *sk, int ret, int flags) {
  if (ret <= 0 || (flags & MSG_PEEK)) return 0;
  struct copy_counters *c = counters();
  if (!c) return 0;
  __u16 family = sk->__sk_common.skc_family;
  if (family == AF_INET || family == AF_INET6) {
    c->inet_received_bytes += ret;
    c->inet_recv_calls += 1;
  } else if (family == AF_UNIX) {
    c->unix_received_bytes += ret;
  } else {
    c->other_received_bytes += ret;
  }
  return 0;
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(mb_skb_copy, const struct sk_buff *skb, int len) {
  if (len <= 0) return 0;
  struct copy_counters *c = counters();
  if (!c) return 0;
  c->skb_copied_bytes += len;
  c->skb_copy_calls += 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
