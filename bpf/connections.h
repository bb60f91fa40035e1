/* Layouts shared by connections.bpf.c and harness/probes/connectionsProbe.ts. */
#ifndef CONNECTIONS_H
#define CONNECTIONS_H
#define HANDSHAKE_SLOTS 32
struct connection_counters {
  __u64 opened;          /* CLOSE -> SYN_SENT: connect() */
  __u64 accepted;        /* SYN_RECV -> ESTABLISHED on the listener's side */
  __u64 established;     /* SYN_SENT -> ESTABLISHED */
  __u64 closed;          /* any established-family state -> CLOSE */
  __u64 connect_failed;  /* SYN_SENT -> CLOSE */
  __u64 retransmits;
  __u64 resets_sent;
  __u64 resets_received;
  __u64 handshake_ns_total;
  __u64 handshake_us_hist[HANDSHAKE_SLOTS]; /* log2 buckets of SYN_SENT -> ESTABLISHED in µs */
};
#endif
