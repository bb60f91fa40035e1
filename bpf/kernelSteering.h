/* Layouts shared by kernelSteering.bpf.c and its TypeScript side (harness/dataplanes/steeringMaps.ts encodes
 * them byte for byte: keep both in step). Addresses and ports are in network byte order, as the kernel hands
 * them to cgroup/connect4, so the program compares and writes them without conversion. */
#ifndef MESHBENCH_KERNEL_STEERING_H
#define MESHBENCH_KERNEL_STEERING_H

#define MB_MAX_SERVICES 256
#define MB_MAX_BACKENDS 64
#define MB_MAX_ENDPOINTS 1024
#define MB_MAX_SOCKETS 65536

enum mb_policy {
	MB_POLICY_ROUND_ROBIN = 0,
	MB_POLICY_RANDOM = 1,
};

/* mb_services key: the service address a client dials. */
struct mb_service_key {
	__u32 vip;   /* network order */
	__u16 port;  /* network order */
	__u16 pad;
};

/* mb_services value. A non-zero waypoint_ip sends every connection to the service's L7 waypoint (dual). */
struct mb_service {
	__u32 id;            /* index into mb_rr and the first half of mb_backends keys */
	__u32 backend_count; /* 1..MB_MAX_BACKENDS, or 0: leave the connection alone */
	__u32 policy;        /* enum mb_policy */
	__u32 waypoint_ip;   /* network order; 0 = no waypoint */
	__u16 waypoint_port; /* network order */
	__u16 pad;
};

struct mb_backend_key {
	__u32 service_id;
	__u32 index;
};

struct mb_backend {
	__u32 ip;   /* network order */
	__u16 port; /* network order */
	__u16 pad;
};

/* mb_sockets key: one end of a same-node connection, as that end sees it. Ports in host order. */
struct mb_sock_key {
	__u32 local_ip;
	__u32 remote_ip;
	__u32 local_port;
	__u32 remote_port;
};

/* Indexes into mb_stats (u64 counters the harness reads to report what the program did). */
enum mb_stat {
	MB_STAT_CONNECT_SEEN = 0,     /* TCP connects from enrolled pods */
	MB_STAT_CONNECT_STEERED = 1,  /* ... rewritten to a backend */
	MB_STAT_CONNECT_WAYPOINT = 2, /* ... rewritten to a waypoint */
	MB_STAT_SOCKETS_ADDED = 3,    /* established sockets put in mb_sockets (both ends on one node) */
	MB_STAT_MSG_REDIRECTED = 4,   /* sendmsg calls handed straight to the peer socket */
	MB_STAT_MSG_PASSED = 5,       /* sendmsg calls left to the TCP stack (peer not in the map) */
	MB_STAT_COUNT = 6,
};

#endif
