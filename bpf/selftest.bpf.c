// SPDX-License-Identifier: GPL-2.0
/* The addon's own smoke test: counts one process's syscalls and reports each through a ring buffer. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u32 target_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

SEC("raw_tp/sys_enter")
int mb_selftest(struct bpf_raw_tracepoint_args *ctx) {
  if ((bpf_get_current_pid_tgid() >> 32) != target_tgid) return 0;
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&counts, &zero);
  if (n) __sync_fetch_and_add(n, 1);
  __u64 *e = bpf_ringbuf_reserve(&events, sizeof(__u64), 0);
  if (e) {
    *e = ctx->args[1];
    bpf_ringbuf_submit(e, 0);
  }
  return 0;
}


/* Feature probe for tp_btf (bpf/kernelFeatures.ts): loads only where tracepoints have BTF. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(mb_probe_tpbtf, struct task_struct *p) {
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
