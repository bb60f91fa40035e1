// SPDX-License-Identifier: GPL-2.0
/*
 * meshbench's `kernel` data plane, the way Kmesh does it: no proxy on the path.
 *
 * - cgroup/connect4 (attached to the cgroups of enrolled pods only): a TCP connect to a service address is
 *   rewritten, before the SYN exists, to a backend the program picks from mb_backends (round robin or random,
 *   per service), or to the service's L7 waypoint when one is set (`dual`). The harness fills the maps the
 *   way a control plane feeds Kmesh. One connection, straight to where it ends up; no DNAT, no conntrack
 *   entry for a service address.
 * - sockops: established sockets whose two ends are enrolled endpoints on the same node go into mb_sockets.
 * - sk_msg (on mb_sockets): a send on such a socket is queued directly on the peer socket's receive queue
 *   (bpf_msg_redirect_hash with BPF_F_INGRESS). The bytes skip the TCP/IP stack, loopback/veth and netfilter
 *   entirely, so skb-level tracepoints never see them (the probes must count them from here).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "kernelSteering.h"

#define AF_INET 2
#define IPPROTO_TCP 6

char LICENSE[] SEC("license") = "GPL";

/* Off = steering only (connect4), for measuring what the sockmap bypass adds. Set before load. */
const volatile __u32 sockmap_enabled = 1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MB_MAX_SERVICES);
	__type(key, struct mb_service_key);
	__type(value, struct mb_service);
} mb_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MB_MAX_SERVICES * MB_MAX_BACKENDS);
	__type(key, struct mb_backend_key);
	__type(value, struct mb_backend);
} mb_backends SEC(".maps");

/* Next round-robin slot per service id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u32);
} mb_rr SEC(".maps");

/* Enrolled endpoint address (network order) -> node index: who may be short-circuited with whom. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MB_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, __u32);
} mb_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, MB_MAX_SOCKETS);
	__type(key, struct mb_sock_key);
	__type(value, __u64);
} mb_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MB_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} mb_stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&mb_stats, &stat);
	if (v)
		*v += 1;
}

SEC("cgroup/connect4")
int mb_connect4(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 1;
	count(MB_STAT_CONNECT_SEEN);
	struct mb_service_key key = { .vip = ctx->user_ip4, .port = (__u16)ctx->user_port };
	struct mb_service *svc = bpf_map_lookup_elem(&mb_services, &key);
	if (!svc)
		return 1;
	if (svc->waypoint_ip != 0) {
		ctx->user_ip4 = svc->waypoint_ip;
		ctx->user_port = svc->waypoint_port;
		count(MB_STAT_CONNECT_WAYPOINT);
		return 1;
	}
	__u32 n = svc->backend_count;
	if (n == 0 || n > MB_MAX_BACKENDS)
		return 1;
	__u32 slot;
	if (svc->policy == MB_POLICY_RANDOM) {
		slot = bpf_get_prandom_u32() % n;
	} else {
		__u32 id = svc->id;
		__u32 *next = bpf_map_lookup_elem(&mb_rr, &id);
		if (!next)
			return 1;
		/* Not atomic on purpose (no BPF_FETCH needed): a lost increment only skews the rotation. */
		__u32 cur = *next;
		*next = cur + 1;
		slot = cur % n;
	}
	struct mb_backend_key bkey = { .service_id = svc->id, .index = slot };
	struct mb_backend *be = bpf_map_lookup_elem(&mb_backends, &bkey);
	if (!be)
		return 1;
	ctx->user_ip4 = be->ip;
	ctx->user_port = be->port;
	count(MB_STAT_CONNECT_STEERED);
	return 1;
}

SEC("sockops")
int mb_sockops(struct bpf_sock_ops *skops)
{
	if (!sockmap_enabled || skops->family != AF_INET)
		return 1;
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	__u32 local_ip = skops->local_ip4;
	__u32 remote_ip = skops->remote_ip4;
	__u32 *local_node = bpf_map_lookup_elem(&mb_endpoints, &local_ip);
	__u32 *remote_node = bpf_map_lookup_elem(&mb_endpoints, &remote_ip);
	if (!local_node || !remote_node || *local_node != *remote_node)
		return 1;
	/* remote_port carries the wire-order port in its upper half; local_port is already host order. */
	struct mb_sock_key key = {
		.local_ip = local_ip,
		.remote_ip = remote_ip,
		.local_port = skops->local_port,
		.remote_port = bpf_ntohl(skops->remote_port),
	};
	if (bpf_sock_hash_update(skops, &mb_sockets, &key, BPF_ANY) == 0)
		count(MB_STAT_SOCKETS_ADDED);
	return 1;
}

SEC("sk_msg")
int mb_sk_msg(struct sk_msg_md *msg)
{
	/* The peer's key is ours mirrored. */
	struct mb_sock_key peer = {
		.local_ip = msg->remote_ip4,
		.remote_ip = msg->local_ip4,
		.local_port = bpf_ntohl(msg->remote_port),
		.remote_port = msg->local_port,
	};
	if (bpf_msg_redirect_hash(msg, &mb_sockets, &peer, BPF_F_INGRESS) == SK_PASS)
		count(MB_STAT_MSG_REDIRECTED);
	else
		count(MB_STAT_MSG_PASSED);
	return SK_PASS;
}
