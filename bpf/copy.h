/* Layout shared by copy.bpf.c and harness/probes/copyProbe.ts (little-endian u64s, in this order). */
#ifndef COPY_H
#define COPY_H
struct copy_counters {
  __u64 inet_sent_bytes;
  __u64 inet_send_calls;
  __u64 inet_received_bytes;
  __u64 inet_recv_calls;
  __u64 unix_sent_bytes;
  __u64 unix_received_bytes;
  __u64 other_sent_bytes;
  __u64 other_received_bytes;
  __u64 skb_copied_bytes;
  __u64 skb_copy_calls;
};
#endif
