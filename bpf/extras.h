/* Layout shared by extras.bpf.c and harness/probes/extrasProbe.ts. */
#ifndef EXTRAS_H
#define EXTRAS_H
struct function_time {
  __u64 calls;
  __u64 time_ns;
};
#endif
