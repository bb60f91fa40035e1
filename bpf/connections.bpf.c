// SPDX-License-Identifier: GPL-2.0
/* TCP connection life cycle per cgroup (bcc tcplife/tcpstates on inet_sock_set_state): opened, accepted,
 * closed, handshake time; retransmits and resets from the tcp tracepoints. State changes often run in
 * softirq context, so the owner is the socket's cgroup (sk_cgrp_data), not current's. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "connections.h"

#define IPPROTO_TCP 6

/* Indexed by registry slot; not per-CPU: connection events are rare, atomics are fine. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_REGISTERED);
  __type(key, __u32);
  __type(value, struct connection_counters);
} connection_stats SEC(".maps");

/* SYN_SENT timestamps by socket address; LRU so sockets that vanish without a state change cannot fill it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, __u64);
  __type(value, __u64);
} syn_sent_at SEC(".maps");

static __always_inline struct connection_counters *counters_for(const struct sock *sk) {
  if (!sk) return NULL;
  int slot = cgroup_slot(sock_cgroup_id(sk));
  if (slot < 0) return NULL;
  __u32 key = slot;
  return bpf_map_lookup_elem(&connection_stats, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(mb_sk_state, const struct sock *sk, const int oldstate, const int newstate) {
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  struct connection_counters *c = counters_for(sk);
  if (!c) return 0;
  __u64 key = (__u64)sk;
  if (newstate == TCP_SYN_SENT) {
    __sync_fetch_and_add(&c->opened, 1);
    __u64 now = bpf_ktime_get_ns();
    bpf_map_update_elem(&syn_sent_at, &key, &now, BPF_ANY);
    return 0;
  }
  if (oldstate == TCP_SYN_SENT) {
    __u64 *ts = bpf_map_lookup_elem(&syn_sent_at, &key);
    if (newstate == TCP_ESTABLISHED) {
      __sync_fetch_and_add(&c->established, 1);
      if (ts) {
        __u64 delta = bpf_ktime_get_ns() - *ts;
        __sync_fetch_and_add(&c->handshake_ns_total, delta);
        __u32 slot = hist_slot(delta / 1000);
        if (slot < HANDSHAKE_SLOTS) __sync_fetch_and_add(&c->handshake_us_hist[slot], 1);
      }
    } else if (newstate == TCP_CLOSE) {
      __sync_fetch_and_add(&c->connect_failed, 1);
    }
    bpf_map_delete_elem(&syn_sent_at, &key);
    return 0;
  }
  if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
    __sync_fetch_and_add(&c->accepted, 1);
    return 0;
  }
  if (newstate == TCP_CLOSE && oldstate != TCP_LISTEN && oldstate != TCP_CLOSE && oldstate != TCP_SYN_RECV) {
    __sync_fetch_and_add(&c->closed, 1);
  }
  return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(mb_retransmit, const struct sock *sk) {
  struct connection_counters *c = counters_for(sk);
  if (c) __sync_fetch_and_add(&c->retransmits, 1);
  return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(mb_rst_send, const struct sock *sk) {
  struct connection_counters *c = counters_for(sk);
  if (c) __sync_fetch_and_add(&c->resets_sent, 1);
  return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(mb_rst_recv, struct sock *sk) {
  struct connection_counters *c = counters_for(sk);
  if (c) __sync_fetch_and_add(&c->resets_received, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
