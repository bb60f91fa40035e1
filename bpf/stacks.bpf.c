// SPDX-License-Identifier: GPL-2.0
/* cpu-clock samples of registered cgroups with kernel and user stack ids (bcc profile); the session folds them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "meshbench.bpf.h"
#include "stacks.h"

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 16384);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stack_traces SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct stack_key);
  __type(value, __u64);
} stack_counts SEC(".maps");

SEC("perf_event")
int mb_sample(struct bpf_perf_event_data *ctx) {
  __u64 cg = bpf_get_current_cgroup_id();
  if (cgroup_slot(cg) < 0) return 0;
  struct stack_key key = {.cgroup = cg, .pid = bpf_get_current_pid_tgid() >> 32};
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  key.kernel_stack_id = bpf_get_stackid(ctx, &stack_traces, 0);
  key.user_stack_id = bpf_get_stackid(ctx, &stack_traces, BPF_F_USER_STACK);
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&stack_counts, &key);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&stack_counts, &key, &one, BPF_NOEXIST);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
