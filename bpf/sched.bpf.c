// SPDX-License-Identifier: GPL-2.0
/* Context switches, run-queue delay, off-CPU and on-CPU time per cgroup (bcc runqlat/offcputime/cpudist).
 * Two variants of each program: tp_btf (trusted task pointers, per-task state in TASK_STORAGE) and raw_tp
 * for kernels without BTF-typed tracepoints (per-task state in a pid-keyed hash). The session loads one. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "sched.h"

#define TASK_RUNNING 0

struct task_times {
  __u64 oncpu_since;
  __u64 offcpu_since;
  __u64 enqueued_at;
};

/* Indexed by registry slot. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, MAX_REGISTERED);
  __type(key, __u32);
  __type(value, struct sched_counters);
} sched_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct task_times);
} task_times_btf SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct task_times);
} task_times_pid SEC(".maps");

/* task_struct->state became __state in 5.14. */
struct task_struct___pre514 {
  volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t) {
  if (bpf_core_field_exists(t->__state)) return BPF_CORE_READ(t, __state);
  return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static const struct task_times zero_times;

static __always_inline struct sched_counters *counters(int slot) {
  __u32 key = slot;
  return bpf_map_lookup_elem(&sched_stats, &key);
}

static __always_inline void switch_out(struct sched_counters *c, struct task_times *t, bool preempt, long prev_state, __u64 now) {
  if (!preempt && prev_state != TASK_RUNNING) {
    c->switches_voluntary += 1;
  } else {
    c->switches_involuntary += 1;
    t->enqueued_at = now; /* still runnable: its wait for a CPU starts now */
  }
  if (t->oncpu_since) c->oncpu_ns += now - t->oncpu_since;
  t->oncpu_since = 0;
  t->offcpu_since = now;
}

static __always_inline void switch_in(struct sched_counters *c, struct task_times *t, __u64 now) {
  if (t->enqueued_at) {
    __u64 d = now - t->enqueued_at;
    c->runq_delay_ns += d;
    c->runq_waits += 1;
    __u32 s = hist_slot(d / 1000);
    if (s < SCHED_SLOTS) c->runq_delay_us_hist[s] += 1;
  }
  if (t->offcpu_since) {
    __u64 d = now - t->offcpu_since;
    c->offcpu_ns += d;
    __u32 s = hist_slot(d / 1000);
    if (s < SCHED_SLOTS) c->offcpu_us_hist[s] += 1;
  }
  t->enqueued_at = 0;
  t->offcpu_since = 0;
  t->oncpu_since = now;
}

static __always_inline void woken(struct sched_counters *c, struct task_times *t, __u64 now) {
  c->wakeups += 1;
  t->enqueued_at = now;
}

static __always_inline struct task_times *times_pid(__u32 pid) {
  return lookup_or_init(&task_times_pid, &pid, &zero_times);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(mb_switch, bool preempt, struct task_struct *prev, struct task_struct *next) {
  __u64 now = bpf_ktime_get_ns();
  int prev_slot = cgroup_slot(prev->cgroups->dfl_cgrp->kn->id);
  if (prev_slot >= 0 && prev->pid != 0) {
    struct sched_counters *c = counters(prev_slot);
    struct task_times *t = bpf_task_storage_get(&task_times_btf, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (c && t) switch_out(c, t, preempt, task_state(prev), now);
  }
  int next_slot = cgroup_slot(next->cgroups->dfl_cgrp->kn->id);
  if (next_slot >= 0 && next->pid != 0) {
    struct sched_counters *c = counters(next_slot);
    struct task_times *t = bpf_task_storage_get(&task_times_btf, next, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (c && t) switch_in(c, t, now);
  }
  return 0;
}

static __always_inline int wakeup_btf(struct task_struct *p) {
  int slot = cgroup_slot(p->cgroups->dfl_cgrp->kn->id);
  if (slot < 0) return 0;
  struct sched_counters *c = counters(slot);
  struct task_times *t = bpf_task_storage_get(&task_times_btf, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (c && t) woken(c, t, bpf_ktime_get_ns());
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(mb_wakeup, struct task_struct *p) { return wakeup_btf(p); }

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(mb_wakeup_new, struct task_struct *p) { return wakeup_btf(p); }

SEC("raw_tp/sched_switch")
int BPF_PROG(mb_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next) {
  __u64 now = bpf_ktime_get_ns();
  int prev_slot = cgroup_slot(bpf_get_current_cgroup_id());
  __u32 prev_pid = BPF_CORE_READ(prev, pid);
  if (prev_slot >= 0 && prev_pid != 0) {
    struct sched_counters *c = counters(prev_slot);
    struct task_times *t = times_pid(prev_pid);
    if (c && t) switch_out(c, t, preempt, task_state(prev), now);
  }
  __u32 next_pid = BPF_CORE_READ(next, pid);
  int next_slot = cgroup_slot(task_cgroup_id(next));
  if (next_slot >= 0 && next_pid != 0) {
    struct sched_counters *c = counters(next_slot);
    struct task_times *t = times_pid(next_pid);
    if (c && t) switch_in(c, t, now);
  }
  return 0;
}

static __always_inline int wakeup_raw(struct task_struct *p) {
  int slot = cgroup_slot(task_cgroup_id(p));
  if (slot < 0) return 0;
  struct sched_counters *c = counters(slot);
  struct task_times *t = times_pid(BPF_CORE_READ(p, pid));
  if (c && t) woken(c, t, bpf_ktime_get_ns());
  return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(mb_wakeup_raw, struct task_struct *p) { return wakeup_raw(p); }

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(mb_wakeupnew_raw, struct task_struct *p) { return wakeup_raw(p); }

char LICENSE[] SEC("license") = "GPL";
