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

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct syscall_key);
  __type(value, struct syscall_counters);
} syscall_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct syscall_start);
} syscall_start SEC(".maps");

static const struct syscall_counters zero_counters;

SEC("raw_tp/sys_enter")
int BPF_PROG(mb_sys_enter, struct pt_regs *regs, long id) {
  if (!cgroup_registered(bpf_get_current_cgroup_id())) return 0;
  struct syscall_start *s = bpf_task_storage_get(&syscall_start, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!s) return 0;
  s->nr = id;
  s->ts = bpf_ktime_get_ns();
  return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(mb_sys_exit, struct pt_regs *regs, long ret) {
  __u64 cg = bpf_get_current_cgroup_id();
  if (!cgroup_registered(cg)) return 0;
  struct syscall_start *s = bpf_task_storage_get(&syscall_start, bpf_get_current_task_btf(), 0, 0);
  if (!s || !s->ts || s->nr < 0) return 0;
  struct syscall_key key = {.cgroup = cg, .nr = (__u32)s->nr};
  struct syscall_counters *c = lookup_or_init(&syscall_stats, &key, &zero_counters);
  if (c) {
    c->count += 1;
    c->time_ns += bpf_ktime_get_ns() - s->ts;
  }
  s->ts = 0;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
