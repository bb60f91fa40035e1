/* Layouts shared by syscalls.bpf.c and harness/probes/syscallsProbe.ts. */
#ifndef SYSCALLS_H
#define SYSCALLS_H
struct syscall_key {
  __u64 cgroup;
  __u32 nr;
  __u32 pad;
};
struct syscall_counters {
  __u64 count;
  __u64 time_ns;
};
#endif
