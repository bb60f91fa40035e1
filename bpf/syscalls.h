/* Layouts shared by syscalls.bpf.c and harness/probes/syscallsProbe.ts. */
#ifndef SYSCALLS_H
#define SYSCALLS_H
#define MAX_SYSCALL_NR 512
struct syscall_counters {
  __u64 count;
  __u64 time_ns;
};
#endif
