/*
 * Classifies sampled stacks into the cost categories of the overhead breakdown, the way MeshInsight
 * (SoCC'23) does for Envoy: rules on kernel function names. Connection setup/teardown and scheduling are
 * activities that own everything beneath them, so they match anywhere in the stack; the other categories
 * match leaf-first (the innermost recognised frame decides), first rule wins.
 */

export const stackCategories = ['copying', 'connections', 'scheduling', 'syscalls', 'network-stack', 'userspace', 'unexplained'] as const;
export type StackCategory = (typeof stackCategories)[number];

const anywhereRules: ReadonlyArray<[StackCategory, RegExp]> = [
  ['connections', /^(tcp_v4_connect|tcp_v6_connect|__inet_stream_connect|inet_stream_connect|tcp_connect|__sys_connect|inet_csk_accept|do_accept|__sys_accept4|tcp_v4_syn_recv_sock|tcp_conn_request|tcp_rcv_synsent_state_process|tcp_close|__tcp_close|inet_release|tcp_done|__sys_socket|sock_create|inet_create|tcp_v4_destroy_sock|tcp_time_wait|inet_twsk_kill|inet_hash_connect|__inet_hash_connect)$/],
  ['scheduling', /^(__schedule|schedule|schedule_hrtimeout_range|schedule_hrtimeout_range_clock|finish_task_switch(\.isra\.\d+)?|__switch_to|__switch_to_asm|try_to_wake_up|ttwu_do_activate|ttwu_queue_wakelist|wake_up_q|__wake_up_common|pick_next_task_fair|enqueue_task_fair|dequeue_task_fair|sched_ttwu_pending|context_switch)$/],
];

const leafRules: ReadonlyArray<[StackCategory, RegExp]> = [
  ['copying', /^(copy_user_\w+|rep_movs_alternative|rep_stos_alternative|_copy_to_iter|_copy_from_iter|copy_page_to_iter|copy_page_from_iter|simple_copy_to_iter|skb_copy_datagram_iter|__skb_datagram_iter|skb_copy_bits|skb_do_copy_data_nocache|csum_partial_copy_generic|memcpy_orig|__memcpy|memcpy|memmove)$/],
  ['network-stack', /^(tcp_\w+|__tcp_\w+|ip_\w+|__ip_\w+|ipv4_\w+|inet_\w+|sk_\w+|__sk_\w+|skb_\w+|__skb_\w+|kfree_skb\w*|__kfree_skb|alloc_skb\w*|__alloc_skb|net_rx_action|__napi_poll|process_backlog|napi_\w+|__netif_receive_skb\w*|netif_\w+|__dev_queue_xmit|dev_queue_xmit|dev_hard_start_xmit|loopback_xmit|veth_\w+|br_\w+|nf_\w+|ipt_do_table|nft_\w+|__nf_\w+|iptable_\w+|fib_\w+|__fib_\w+|dst_\w+|neigh_\w+|raw_v4_\w+|sock_def_readable|sock_sendmsg|sock_recvmsg|__sock_sendmsg|sock_read_iter|sock_write_iter|do_softirq|__do_softirq|handle_softirqs|__local_bh_enable_ip|bpf_\w+|sk_msg_\w+|tcp_bpf_\w+)$/],
  ['syscalls', /^(entry_SYSCALL_64\w*|do_syscall_64|syscall_exit_to_user_mode\w*|syscall_return_via_sysret|__x64_sys_\w+|__do_sys_\w+|ksys_\w+|__sys_\w+|vfs_read|vfs_write|vfs_readv|vfs_writev|do_iter_\w+|do_readv|do_writev|fdget\w*|__fget\w*|fput|do_epoll_wait|do_epoll_ctl|ep_\w+|__fdget\w*|rw_verify_area|security_\w+|apparmor_\w+|import_iovec|__import_iovec|exit_to_user_mode\w*|__rseq_handle_notify_resume|rseq_\w+)$/],
];

const kernelSuffix = /_\[k\]$|\s\[k\]$|\[kernel\.kallsyms\]$/;

export function isKernelFrame(frame: string): boolean {
  return kernelSuffix.test(frame);
}

function bareName(frame: string): string {
  return frame.replace(kernelSuffix, '').replace(/\+0x[0-9a-f]+$/, '').trim();
}

/** Root-first frames as in folded stacks ("a;b;leaf"). */
export function classifyStack(framesRootFirst: readonly string[]): StackCategory {
  const kernel = framesRootFirst.filter(isKernelFrame).map(bareName);
  if (kernel.length === 0) return framesRootFirst.length > 0 ? 'userspace' : 'unexplained';
  for (const [category, re] of anywhereRules) if (kernel.some((f) => re.test(f))) return category;
  for (let i = kernel.length - 1; i >= 0; i -= 1) {
    const f = kernel[i] as string;
    for (const [category, re] of leafRules) if (re.test(f)) return category;
  }
  return 'unexplained';
}

/** Parses folded stacks ("frame;frame;leaf COUNT" per line) into sample counts per category. */
export function classifyFolded(folded: string): Record<StackCategory, number> {
  const counts = Object.fromEntries(stackCategories.map((c) => [c, 0])) as Record<StackCategory, number>;
  for (const line of folded.split('\n')) {
    const sp = line.lastIndexOf(' ');
    if (sp <= 0) continue;
    const n = Number(line.slice(sp + 1));
    if (!Number.isFinite(n) || n <= 0) continue;
    counts[classifyStack(line.slice(0, sp).split(';'))] += n;
  }
  return counts;
}
