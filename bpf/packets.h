/* Layouts shared by packets.bpf.c and harness/probes/packetsProbe.ts. */
#ifndef PACKETS_H
#define PACKETS_H
#define PACKET_TX 0
#define PACKET_RX 1
struct packet_key {
  __u32 slot;       /* registry slot of the owning cgroup */
  __u32 direction;  /* PACKET_TX / PACKET_RX */
  __u32 netns;      /* inode of the device's network namespace */
  __u32 ifindex;
};
struct packet_counters {
  __u64 packets;
  __u64 bytes;
};
struct device_key {
  __u32 netns;
  __u32 ifindex;
};
struct device_name {
  char name[16];
};
#endif
