// SPDX-License-Identifier: GPL-2.0
/* Count and time per (cgroup, syscall number), bcc syscount on raw_syscalls. raw_tp is the cheapest hook that
 * works under lockdown; the enter timestamp lives in task storage (no fixed-size hash to overflow). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "syscalls.h"

struct syscall_start {
  __u64 ts;
  __s64 nr;
};

/* Indexed by slot * MAX_SYSCALL_NR + nr: an inlined array access per syscall instead of a hash lookup. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, MAX_REGISTERED * MAX_SYSCALL_NR);
  __type(key, __u32);
  __type(value, struct syscall_counters);
} syscall_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct syscall_start);
} syscall_start SEC(".maps");

SEC("raw_tp/sys_enter")
int BPF_PROG(mb_sys_enter, struct pt_regs *regs, long id) {
  if (cgroup_slot(bpf_get_current_cgroup_id()) < 0) return 0;
  struct syscall_start *s = bpf_task_storage_get(&syscall_start, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!s) return 0;
  s->nr = id;
  s->ts = bpf_ktime_get_ns();
  return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(mb_sys_exit, struct pt_regs *regs, long ret) {
  int slot = cgroup_slot(bpf_get_current_cgroup_id());
  if (slot < 0) return 0;
  struct syscall_start *s = bpf_task_storage_get(&syscall_start, bpf_get_current_task_btf(), 0, 0);
  if (!s || !s->ts || s->nr < 0 || s->nr >= MAX_SYSCALL_NR) return 0;
  __u32 key = (__u32)slot * MAX_SYSCALL_NR + (__u32)s->nr;
  struct syscall_counters *c = bpf_map_lookup_elem(&syscall_stats, &key);
  if (c) {
    c->count += 1;
    c->time_ns += bpf_ktime_get_ns() - s->ts;
  }
  s->ts = 0;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
