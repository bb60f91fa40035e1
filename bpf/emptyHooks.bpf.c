// SPDX-License-Identifier: GPL-2.0
/* One empty program on every hook the probes use, for npm run bench:probes: attached in place of the probes,
 * they measure what the kernel charges for running *a* program there (tracepoint dispatch, the syscall slow
 * path raw_syscalls forces on every task), the floor no program body can go below. Keep in step with the
 * probes' sections: test/privileged/bpfAddon.test.ts checks that every probe hook has its twin here. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define EMPTY(name, section) \
  SEC(section) int name(void *ctx) { return 0; }

EMPTY(e_sys_exit, "tp_btf/sys_exit")
EMPTY(e_send_len, "tp_btf/sock_send_length")
EMPTY(e_recv_len, "tp_btf/sock_recv_length")
EMPTY(e_skb_copy, "tp_btf/skb_copy_datagram_iovec")
EMPTY(e_dev_xmit, "tp_btf/net_dev_start_xmit")
EMPTY(e_netif_rcv, "tp_btf/netif_receive_skb")
EMPTY(e_switch, "tp_btf/sched_switch")
EMPTY(e_wakeup, "tp_btf/sched_wakeup")
EMPTY(e_wakeup_new, "tp_btf/sched_wakeup_new")
EMPTY(e_sk_state, "tp_btf/inet_sock_set_state")
EMPTY(e_retransmit, "tp_btf/tcp_retransmit_skb")
EMPTY(e_rst_send, "tp_btf/tcp_send_reset")
EMPTY(e_rst_recv, "tp_btf/tcp_receive_reset")
EMPTY(e_sys_enter_raw, "raw_tp/sys_enter")
EMPTY(e_sys_exit_raw, "raw_tp/sys_exit")
EMPTY(e_switch_raw, "raw_tp/sched_switch")
EMPTY(e_wakeup_raw, "raw_tp/sched_wakeup")
EMPTY(e_wakeupnew_raw, "raw_tp/sched_wakeup_new")
EMPTY(e_kp_send, "kprobe/tcp_sendmsg")
EMPTY(e_kp_recv, "kprobe/tcp_recvmsg")
EMPTY(e_krp_send, "kretprobe/tcp_sendmsg")
EMPTY(e_krp_recv, "kretprobe/tcp_recvmsg")
EMPTY(e_fentry_send, "fentry/tcp_sendmsg")
EMPTY(e_fentry_recv, "fentry/tcp_recvmsg")
EMPTY(e_fexit_send, "fexit/tcp_sendmsg")
EMPTY(e_fexit_recv, "fexit/tcp_recvmsg")

char LICENSE[] SEC("license") = "GPL";
