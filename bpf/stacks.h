/* Layouts shared by stacks.bpf.c and harness/probes/stacksProbe.ts. */
#ifndef STACKS_H
#define STACKS_H
#define MAX_STACK_DEPTH 127
struct stack_key {
  __u64 cgroup;
  __u32 pid;
  __s32 kernel_stack_id; /* < 0: none (user mode) or lost */
  __s32 user_stack_id;
  __u32 pad;
  char comm[16];
};
#endif
