/* Layouts shared by packets.bpf.c and harness/probes/packetsProbe.ts. */
#ifndef PACKETS_H
#define PACKETS_H
#define PACKET_TX 0
#define PACKET_RX 1
/* Devices a component's packets can cross, per CPU: a pod has lo and one veth, a proxy a few more. */
#define DEVICES_PER_SLOT 15
struct device_counters {
  __u32 netns;      /* inode of the device's network namespace */
  __u32 ifindex;    /* 0 = free entry (no device has ifindex 0) */
  __u64 packets[2]; /* by PACKET_TX / PACKET_RX */
  __u64 bytes[2];
};
/* The value of packet_stats, indexed by registry slot. */
struct slot_devices {
  struct device_counters devices[DEVICES_PER_SLOT];
  __u64 overflow_packets[2]; /* on devices beyond DEVICES_PER_SLOT on one CPU */
  __u64 overflow_bytes[2];
};
struct device_key {
  __u32 netns;
  __u32 ifindex;
};
struct device_name {
  char name[16];
};
#endif
