// SPDX-License-Identifier: GPL-2.0
/* Optional detail where the kernel allows it: time inside tcp_sendmsg/tcp_recvmsg per cgroup, through fentry/
 * fexit (cheapest) or kprobes. Kernel lockdown refuses both on many machines; the session then reports them
 * unavailable with the reason and carries on with tracepoints. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "extras.h"

#define FN_SENDMSG 0
#define FN_RECVMSG 1

struct fn_key {
  __u64 cgroup;
  __u32 fn;
  __u32 pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, MAX_CGROUPS * 2);
  __type(key, struct fn_key);
  __type(value, struct function_time);
} function_times SEC(".maps");

struct fn_start {
  __u64 ts[2];
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct fn_start);
} fn_start SEC(".maps");

static const struct function_time zero_time;

static __always_inline int enter(__u32 fn) {
  if (cgroup_slot(bpf_get_current_cgroup_id()) < 0) return 0;
  struct fn_start *s = bpf_task_storage_get(&fn_start, bpf_get_current_task_btf(), 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (s && fn < 2) s->ts[fn] = bpf_ktime_get_ns();
  return 0;
}

static __always_inline int leave(__u32 fn) {
  __u64 cg = bpf_get_current_cgroup_id();
  if (cgroup_slot(cg) < 0) return 0;
  struct fn_start *s = bpf_task_storage_get(&fn_start, bpf_get_current_task_btf(), 0, 0);
  if (!s || fn >= 2 || !s->ts[fn]) return 0;
  struct fn_key key = {.cgroup = cg, .fn = fn};
  struct function_time *t = lookup_or_init(&function_times, &key, &zero_time);
  if (t) {
    t->calls += 1;
    t->time_ns += bpf_ktime_get_ns() - s->ts[fn];
  }
  s->ts[fn] = 0;
  return 0;
}

SEC("fentry/tcp_sendmsg")
int BPF_PROG(mb_fe_sendmsg) { return enter(FN_SENDMSG); }
SEC("fexit/tcp_sendmsg")
int BPF_PROG(mb_fx_sendmsg) { return leave(FN_SENDMSG); }
SEC("fentry/tcp_recvmsg")
int BPF_PROG(mb_fe_recvmsg) { return enter(FN_RECVMSG); }
SEC("fexit/tcp_recvmsg")
int BPF_PROG(mb_fx_recvmsg) { return leave(FN_RECVMSG); }

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(mb_kp_sendmsg) { return enter(FN_SENDMSG); }
SEC("kretprobe/tcp_sendmsg")
int BPF_KRETPROBE(mb_kr_sendmsg) { return leave(FN_SENDMSG); }
SEC("kprobe/tcp_recvmsg")
int BPF_KPROBE(mb_kp_recvmsg) { return enter(FN_RECVMSG); }
SEC("kretprobe/tcp_recvmsg")
int BPF_KRETPROBE(mb_kr_recvmsg) { return leave(FN_RECVMSG); }

char LICENSE[] SEC("license") = "GPL";
