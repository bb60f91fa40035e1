/* Layouts shared by sched.bpf.c and harness/probes/schedProbe.ts. */
#ifndef SCHED_H
#define SCHED_H
#define SCHED_SLOTS 32
struct sched_counters {
  __u64 switches_voluntary;   /* prev blocked (nvcsw) */
  __u64 switches_involuntary; /* prev preempted or still runnable (nivcsw) */
  __u64 oncpu_ns;
  __u64 offcpu_ns;
  __u64 runq_delay_ns;
  __u64 runq_waits;
  __u64 wakeups;
  __u64 runq_delay_us_hist[SCHED_SLOTS];
  __u64 offcpu_us_hist[SCHED_SLOTS];
};
#endif
