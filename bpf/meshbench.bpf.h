/* Shared by every probe object: the registered-cgroup filter and log2 histograms (libbpf-tools' bits.bpf.h). */
#ifndef MESHBENCH_BPF_H
#define MESHBENCH_BPF_H

#include <bpf/bpf_core_read.h>

#define MAX_CGROUPS 1024
#define MAX_REGISTERED 32
#define MAX_SLOTS 32

/* The cgroups a session measures, written by the session into the object's .bss before it attaches
 * (bpf/registry.h layout). A slot is a cgroup's index here; hot-path counters live in per-CPU arrays
 * indexed by slot, so an event costs a few compares and an inlined array access, no hash lookup. */
#include "registry.h"
struct registry registry = {};

static __always_inline int cgroup_slot(__u64 id) {
  __u32 n = registry.count;
  for (int i = 0; i < MAX_REGISTERED; i++) {
    if (i >= n) break;
    if (registry.ids[i] == id) return i;
  }
  return -1;
}

static __always_inline int netns_slot(__u32 inum) {
  __u32 n = registry.count;
  if (!registry.netns_count) return -1;
  for (int i = 0; i < MAX_REGISTERED; i++) {
    if (i >= n) break;
    if (registry.netns[i] == inum) return i;
  }
  return -1;
}

static __always_inline __u32 log2_u32(__u32 v) {
  __u32 r, shift;
  r = (v > 0xFFFF) << 4; v >>= r;
  shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
  shift = (v > 0xF) << 2; v >>= shift; r |= shift;
  shift = (v > 0x3) << 1; v >>= shift; r |= shift;
  r |= (v >> 1);
  return r;
}

static __always_inline __u32 log2_u64(__u64 v) {
  __u32 hi = v >> 32;
  return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

/* Slot s counts values in [2^s, 2^(s+1)); slot 0 also holds 0. */
static __always_inline __u32 hist_slot(__u64 v) {
  __u32 s = log2_u64(v);
  return s >= MAX_SLOTS ? MAX_SLOTS - 1 : s;
}

#endif

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#define AF_UNIX 1
#endif

/* The cgroup v2 id a socket was created in (inherited by accepted sockets from their listener): the owner of
 * events that run in softirq context, where "current" is whoever the interrupt landed on. */
static __always_inline __u64 sock_cgroup_id(const struct sock *sk) {
  return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

/* Same through BTF pointer walking: plain loads in tp_btf programs instead of three probe-read helper calls. */
#define SOCK_CGROUP_ID_BTF(sk) ((sk)->sk_cgrp_data.cgroup->kn->id)

/* current's cgroup v2 id by BTF pointer walking, for tp_btf programs. bpf_get_current_cgroup_id() does the
 * same walk inside an rcu_read_lock/unlock pair, which under PREEMPT_RCU are two more out-of-line calls (and,
 * with the return-thunk mitigations of these VMs, two more slow returns): 18 ns per event measured on the
 * development VM, a fifth of what a probe costs there. The program already runs under RCU. */
#define CURRENT_CGROUP_ID_BTF() (bpf_get_current_task_btf()->cgroups->dfl_cgrp->kn->id)

static __always_inline __u64 task_cgroup_id(const struct task_struct *t) {
  return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
}

/* Per-CPU counters keyed by K: look up, or insert zeros and look up again. */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero) {
  void *v = bpf_map_lookup_elem(map, key);
  if (v) return v;
  bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(map, key);
}
