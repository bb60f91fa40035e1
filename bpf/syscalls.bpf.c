// SPDX-License-Identifier: GPL-2.0
/* Count (and, when asked, time) per (cgroup, syscall number), bcc syscount on raw_syscalls. Counting needs
 * only sys_exit, whose pt_regs still hold the number: one program per syscall, no per-task state. Timing adds
 * sys_enter and a task-storage timestamp, about doubling the cost, so the session turns it on only on request. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "syscalls.h"

const volatile bool measure_time = false;

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

static __always_inline int on_exit(int slot, long nr) {
  if (nr < 0 || nr >= MAX_SYSCALL_NR) return 0;
  __u32 key = (__u32)slot * MAX_SYSCALL_NR + (__u32)nr;
  struct syscall_counters *c = bpf_map_lookup_elem(&syscall_stats, &key);
  if (!c) return 0;
  c->count += 1;
  if (measure_time) {
    struct syscall_start *s = bpf_task_storage_get(&syscall_start, bpf_get_current_task_btf(), 0, 0);
    if (s && s->ts && s->nr == nr) c->time_ns += bpf_ktime_get_ns() - s->ts;
    if (s) s->ts = 0;
  }
  return 0;
}

#if defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR_FIELD syscallno
#else
#define SYSCALL_NR_FIELD orig_ax
#endif
#define SYSCALL_NR(regs) ((regs)->SYSCALL_NR_FIELD)

/* tp_btf: pt_regs is a trusted pointer, so the number is a plain load. */
SEC("tp_btf/sys_exit")
int BPF_PROG(mb_sys_exit, struct pt_regs *regs, long ret) {
  int slot = cgroup_slot(CURRENT_CGROUP_ID_BTF());
  if (slot < 0) return 0;
  return on_exit(slot, SYSCALL_NR(regs));
}

SEC("raw_tp/sys_exit")
int BPF_PROG(mb_sys_exit_raw, struct pt_regs *regs, long ret) {
  int slot = cgroup_slot(bpf_get_current_cgroup_id());
  if (slot < 0) return 0;
  return on_exit(slot, BPF_CORE_READ(regs, SYSCALL_NR_FIELD));
}

char LICENSE[] SEC("license") = "GPL";
