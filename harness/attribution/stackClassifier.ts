/*
 * Classifies sampled stacks into the cost categories of the overhead breakdown, the way MeshInsight
 * (SoCC'23, profiler/config/istio.yml) does for Envoy: rules on kernel function names, anchored on its
 * frames (`process_backlog` and `br_handle_frame` for IPC over the network stack, `vfs_readv`/`vfs_writev`
 * and `vfs_read`/`vfs_write` for READ/WRITE, `ep_send_events`/`do_epoll_wait` for EPOLL). All rules are in
 * the one table below, `classificationRules`, in the order they are tried; each has a test built from a
 * real folded stack saved from a run (test/fixtures/stacks/quick-run.json; the rules issue 14's calibration
 * controls called for, test/fixtures/stacks/calibration-run.json).
 *
 * How a stack is read:
 * 1. A stack whose capture failed says nothing about where the time went: `unexplained`.
 * 2. Only the innermost context counts. An interrupt or softirq that ran on top of a task's code owns the
 *    sample, so the kernel frames are cut at the last interrupt entry or softirq dispatch; the softirq's
 *    handler then decides (network receive and transmit are the network stack, unless they run on top of a
 *    connect, accept, shutdown or close, whose own packets they then deliver; timer, RCU, block and
 *    scheduler softirqs are not).
 * 3. In that context, activities own everything beneath them wherever they appear (instrumentation,
 *    connection setup and teardown, scheduling); the other categories match leaf-first (the innermost
 *    recognised frame decides), first rule wins.
 *    Then the innermost two frames, for samples that landed where a wake-up turned interrupts back on.
 * 4. Kernel frames that no rule names, and syscall entry/exit frames alone, are `kernel-unclassified`, unless
 *    the user frame the call came from names it (step 5).
 * 5. The innermost user frame decides two kinds of sample the kernel frames cannot: a stack whose kernel part
 *    is only the syscall entry and exit, and a sample with no kernel frame at all taken at a system-call
 *    wrapper (the kernel's exit path, see `syscall-wrapper-user-mode`). A wrapper that names a call the
 *    table names wholesale (futex → scheduling; connect, accept, socket, shutdown → connections) gives that
 *    category; another wrapper in user mode is the entry/exit, `kernel-unclassified`.
 * 6. One rule is shared by evidence rather than decided per stack: close(2)'s generic file teardown
 *    (`file-close`) is split between `connections` and `syscalls` in the proportion of socket releases among
 *    the file releases the same component's samples show (classifyFoldedStacks).
 */

export const stackCategories = ['instrumentation', 'copying', 'connections', 'scheduling', 'syscalls', 'network-stack', 'kernel-unclassified', 'userspace', 'unexplained'] as const;
export type StackCategory = (typeof stackCategories)[number];

/** One rule of the table: which frames it looks for, where, and what it calls them. */
export interface ClassificationRule {
  /** Stable name, used by the tests (one fixture stack per rule) and the README. */
  readonly name: string;
  readonly category: StackCategory;
  /**
   * `capture`: decides from the shape of the whole stack (failed captures). `context`: the handler of the
   * innermost softirq or interrupt (for `softirq-net-connection-syscall`, the task frames it interrupted). `anywhere`: any frame of the innermost context. `leaf`: the innermost
   * matching frame of that context decides. `user-leaf`: the innermost user frame, read only where the kernel
   * frames name no work (entry/exit alone) or there are none (a sample taken in user mode). `leaf-pair`: the
   * innermost two kernel frames as "caller;leaf", tried after the `anywhere` rules.
   */
  readonly scope: 'capture' | 'context' | 'anywhere' | 'leaf-pair' | 'leaf' | 'user-leaf';
  readonly match: RegExp;
  /** Why: the MeshInsight anchor or the kernel fact behind the rule. */
  readonly why: string;
  /**
   * For a rule whose stacks say the kind of work but not whose it is (`file-close`): the other category its
   * samples are shared with, in the proportion the component's own samples give (see classifyFoldedStacks).
   * `category` is where they all go when there is no evidence.
   */
  readonly sharedWith?: StackCategory;
}

/** Frame meshbench's stack sampler writes where the kernel's stack-trace map lost a stack (bpf_get_stackid returned -EEXIST: a hash collision). */
export const lostKernelStackFrame = '[kernel_stack_lost]';
export const lostUserStackFrame = '[user_stack_lost]';

/** The rule table, in the order rules are tried within their scope. */
export const classificationRules: readonly ClassificationRule[] = [
  // 1. captures that failed
  { name: 'lost-stack', category: 'unexplained', scope: 'capture', match: /^\[kernel_stack_lost\]$/, why: 'bpf_get_stackid hit a hash collision in the stack-trace map for the kernel stack: the frames the rules read are not known. A lost user stack ([user_stack_lost]) is not a lost capture for the rules, which read kernel frames only: the stack is classified by its kernel frames, and without any (the kernel stack id was -EFAULT: the sample was taken in user mode) it is user space' },
  { name: 'empty-stack', category: 'unexplained', scope: 'capture', match: /^$/, why: 'neither a user nor a kernel frame was captured (only the command name)' },
  { name: 'kernel-thread-without-kernel-frames', category: 'unexplained', scope: 'capture', match: /^(ksoftirqd|kworker|migration|rcu_\w+|swapper|kthreadd|cpuhp|idle_inject|watchdog)\b/, why: 'a kernel thread runs only kernel code, so a stack of it without kernel frames was not captured' },

  // 2. the innermost softirq or interrupt
  { name: 'softirq-net', category: 'network-stack', scope: 'context', match: /^(net_rx_action|net_tx_action)$/, why: 'NET_RX/NET_TX softirq: MeshInsight\'s IPC anchor process_backlog runs here' },
  { name: 'softirq-net-connection-syscall', category: 'connections', scope: 'context', match: /^(__sys_connect|__sys_shutdown|__sys_accept4|do_accept|inet_shutdown|inet_release|sock_close|__sock_release|tcp_close|__tcp_close)$/, why: 'a NET_RX softirq run on top of a task\'s connect, accept, shutdown or close: on loopback and veth the packets that call sends (SYN, SYN-ACK, the last ACK, FIN) are received right there, at the call\'s local_bh_enable, so that softirq is the handshake or the close being delivered; decided by the interrupted task\'s frames, which the softirq rule alone cannot see' },
  { name: 'softirq-tcp-timer', category: 'network-stack', scope: 'context', match: /^(tcp_delack_timer|tcp_write_timer|tcp_keepalive_timer|tcp_retransmit_timer|tcp_compressed_ack_kick|tcp_pace_kick|tcp_delack_timer_handler|tcp_write_timer_handler)$/, why: 'a TIMER softirq running one of TCP\'s own timers (delayed ACK, retransmit) is TCP work' },
  { name: 'softirq-timer', category: 'kernel-unclassified', scope: 'context', match: /^(run_timer_softirq|hrtimer_run_softirq|run_timer_base)$/, why: 'TIMER/HRTIMER softirq: not the network stack' },
  { name: 'softirq-rcu', category: 'kernel-unclassified', scope: 'context', match: /^(rcu_core|rcu_core_si|rcu_process_callbacks)$/, why: 'RCU softirq: deferred frees, not the network stack' },
  { name: 'softirq-sched', category: 'scheduling', scope: 'context', match: /^(sched_balance_softirq|run_rebalance_domains)$/, why: 'SCHED softirq: load balancing between CPUs' },
  { name: 'softirq-other', category: 'kernel-unclassified', scope: 'context', match: /^(blk_done_softirq|tasklet_action|tasklet_hi_action|irq_poll_softirq|handle_softirqs|__do_softirq)$/, why: 'block, tasklet softirqs or the dispatcher itself: not the network stack' },
  { name: 'irq-reschedule', category: 'scheduling', scope: 'context', match: /^(asm_sysvec_reschedule_ipi|sysvec_reschedule_ipi)$/, why: 'a reschedule IPI' },
  { name: 'irq-other', category: 'kernel-unclassified', scope: 'context', match: /^(asm_sysvec_\w+|sysvec_\w+|asm_common_interrupt|common_interrupt)$/, why: 'a hardware or timer interrupt' },

  // 3. activities that own everything beneath them
  { name: 'probe-frames', category: 'instrumentation', scope: 'anywhere', match: /^(bpf_prog_[0-9a-f]+_mb_(?!connect4$|sockops$|sk_msg$)\w+|bpf_trace_run\d+|__bpf_trace_\w+|call_trace_sock_\w+(\.constprop\.\d+)?|syscall_trace_enter\w*|trace_call_bpf|perf_trace_run_bpf_submit|bpf_overflow_handler|__bpf_prog_enter\w*|__bpf_prog_exit\w*|bpf_trampoline_\d+)$/, why: 'meshbench\'s own probes: a probe program (bpf_prog_<tag>_mb_*, except the kernel data plane\'s mb_connect4/mb_sockops/mb_sk_msg), the tracepoint-to-BPF dispatch and bpf_stats\' clock reads under it, the out-of-line tracepoint calls (call_trace_sock_send_length and the like, also as the GCC clone call_trace_sock_send_length.constprop.0 that kernel 6.18 has: a sample there before the probe ran read as network-stack by its caller sock_write_iter, 11 samples in 3 calibration runs) and the syscall tracing slow path that exist only while a probe is attached' },
  { name: 'connection-setup-teardown', category: 'connections', scope: 'anywhere', match: /^(tcp_v4_connect|tcp_v6_connect|__inet_stream_connect|inet_stream_connect|tcp_connect|__sys_connect|inet_csk_accept|do_accept|__sys_accept4|tcp_v4_syn_recv_sock|tcp_conn_request|tcp_rcv_synsent_state_process|tcp_close|__tcp_close|inet_release|tcp_done|__sys_socket|sock_create|inet_create|tcp_v4_destroy_sock|tcp_time_wait|inet_twsk_kill|inet_hash_connect|__inet_hash_connect|__sys_shutdown|inet_shutdown|tcp_shutdown|tcp_send_fin|tcp_fin|tcp_rcv_state_process|tcp_child_process|tcp_check_req|tcp_v4_send_synack|tcp_make_synack|tcp_create_openreq_child|inet_csk_clone_lock|inet_csk_complete_hashdance|tcp_finish_connect|tcp_timewait_state_process|sock_close|__sock_release)$/, why: 'connect, accept, socket, shutdown and close, and the TCP states that exist only while a connection is set up or torn down: tcp_rcv_state_process handles every state but ESTABLISHED (LISTEN, SYN-SENT, SYN-RECV, FIN-WAIT, CLOSE-WAIT, LAST-ACK), tcp_check_req/tcp_child_process the handshake\'s last ACK, tcp_send_fin/tcp_fin the FINs' },
  { name: 'scheduler', category: 'scheduling', scope: 'anywhere', match: /^(__schedule|schedule|schedule_hrtimeout_range|schedule_hrtimeout_range_clock|finish_task_switch(\.isra\.\d+)?|__switch_to|__switch_to_asm|try_to_wake_up|ttwu_do_activate|ttwu_queue_wakelist|wake_up_q|__wake_up_common|pick_next_task_fair|enqueue_task_fair|dequeue_task_fair|sched_ttwu_pending|context_switch|__rseq_handle_notify_resume|rseq_\w+)$/, why: 'context switches and wake-ups; the rseq update on the way back to user space, which the kernel asks for only after the task was switched in or migrated (rseq_preempt, rseq_migrate)' },
  { name: 'futex-handoff', category: 'scheduling', scope: 'anywhere', match: /^(__x64_sys_futex|do_futex|futex_wait|__futex_wait|futex_wait_setup|futex_do_wait|futex_wait_queue|futex_wake|futex_wake_mark|futex_q_lock|futex_q_unlock|futex_hash|futex_unqueue|__futex_unqueue|__futex_queue|futex_requeue|futex_wait_requeue_pi|futex_lock_pi|futex_unlock_pi|get_futex_key)$/, why: 'a futex wait or wake exists only to block a thread and wake another: the hand-off between threads, which MeshInsight and Kmesh count as context-switch cost (the switch itself, schedule and try_to_wake_up, is the scheduler rule above)' },
  { name: 'file-close', category: 'syscalls', sharedWith: 'connections', scope: 'anywhere', match: /^(__x64_sys_close|__do_sys_close|close_fd|file_close_fd|filp_flush|filp_close|fput_close_sync|fput_close|__fput|____fput|__fput_sync|delayed_fput)$/, why: 'close(2) and the deferred fput (task_work_run → ____fput) tear a file down the same way whatever it is (fs/file_table.c __fput: fsnotify, eventpoll_release, locks_remove_file, the LSM hooks security_file_release/free, then f_op->release, then dput of its dentry and, for a pseudo file such as a socket, __dentry_kill → evict → destroy_inode of its inode, since sockfs dentries are never kept in the dcache). Only the f_op->release frame says what the file was: sock_close (a connection torn down, rule connection-setup-teardown above) or another *_release. So the generic part is shared: connections in the proportion of socket releases among the releases the same component\'s samples show, syscalls for the rest (all syscalls when none shows). MeshInsight has no close category; its READ/WRITE anchors are the nearest, which is why the default is syscalls' },
  { name: 'unix-socket-transfer', category: 'copying', scope: 'anywhere', match: /^(unix_stream_sendmsg|unix_stream_recvmsg|unix_stream_read_generic|unix_stream_read_actor|unix_dgram_sendmsg|unix_dgram_recvmsg|unix_seqpacket_sendmsg|unix_seqpacket_recvmsg)$/, why: 'AF_UNIX moves bytes from one process\'s buffer to another\'s with no protocol work (no TCP/IP, no netfilter, no device): the skb it allocates only carries the bytes, so its send and receive path is the copy (wake-ups under it stay scheduling, the rule above)' },

  { name: 'wakeup-irq-restore', category: 'scheduling', scope: 'leaf-pair', match: /^(sock_def_readable|sock_def_wakeup|sock_def_write_space\w*|sock_def_error_report|sk_stream_write_space|unix_write_space|__wake_up\w*|ep_poll_callback);_raw_spin_unlock_irqrestore$/, why: 'a wake-up of a socket\'s waiters, sampled where it turns interrupts back on: __wake_up_sync_key takes the wait queue\'s lock with spin_lock_irqsave, runs the waiters\' callbacks with interrupts off (ep_poll_callback, which wakes the epoll waiter: try_to_wake_up) and tail-calls _raw_spin_unlock_irqrestore, so its frame is gone and the caller (sock_def_readable…) shows; cpu-clock is an hrtimer, and every sample whose timer expired during that irq-off wake-up is taken at the restore. So these samples are the wake-up (scheduling, as try_to_wake_up is), not TCP/IP. Seen in calibration runs: +8.5 µs per request in the echo reply\'s receive softirq when switches=10 kept the CPUs busy' },

  // 4. the innermost recognised frame
  { name: 'copy', category: 'copying', scope: 'leaf', match: /^(copy_user_\w+|rep_movs_alternative|rep_stos_alternative|_copy_to_iter|_copy_from_iter|copy_page_to_iter|copy_page_from_iter|simple_copy_to_iter|skb_copy_datagram_iter|__skb_datagram_iter|skb_copy_bits|skb_do_copy_data_nocache|csum_partial_copy_generic|memcpy_orig|__memcpy|memcpy|memmove)$/, why: 'bytes copied between user and kernel or between buffers' },
  { name: 'network-stack', category: 'network-stack', scope: 'leaf', match: /^(tcp_\w+|__tcp_\w+|ip_\w+|__ip_\w+|ipv4_\w+|inet_\w+|sk_\w+|__sk_\w+|skb_\w+|__skb_\w+|kfree_skb\w*|__kfree_skb|alloc_skb\w*|__alloc_skb|bbr_\w+|net_rx_action|__napi_poll|process_backlog|napi_\w+|__netif_receive_skb\w*|netif_\w+|__dev_queue_xmit|dev_queue_xmit|dev_hard_start_xmit|loopback_xmit|veth_\w+|br_\w+|nf_\w+|ipt_do_table|nft_\w+|__nf_\w+|iptable_\w+|fib_\w+|__fib_\w+|dst_\w+|neigh_\w+|raw_v4_\w+|sock_def_readable|sock_sendmsg|sock_recvmsg|__sock_sendmsg|sock_read_iter|sock_write_iter|bpf_prog_[0-9a-f]+_mb_(connect4|sockops|sk_msg)|sk_msg_\w+|tcp_bpf_\w+|sk_psock_\w+)$/, why: 'TCP/IP, netfilter, bridge and veth: MeshInsight\'s IPC anchors process_backlog and br_handle_frame; the kernel data plane\'s own programs' },
  { name: 'io-syscalls', category: 'syscalls', scope: 'leaf', match: /^(__x64_sys_\w+|__do_sys_\w+|ksys_\w+|__sys_\w+|vfs_read|vfs_write|vfs_readv|vfs_writev|do_iter_\w+|do_readv|do_writev|fdget\w*|__fget\w*|fput|do_epoll_wait|do_epoll_ctl|ep_\w+|__fdget\w*|rw_verify_area|security_\w+|bpf_lsm_\w+|apparmor_\w+|import_iovec|__import_iovec)$/, why: 'the work of a system call itself: MeshInsight\'s READ/WRITE anchors vfs_read(v)/vfs_write(v), EPOLL anchors ep_send_events/do_epoll_wait, fd lookup and permission checks' },
  { name: 'syscall-entry-exit-only', category: 'kernel-unclassified', scope: 'leaf', match: /^(entry_SYSCALL_64\w*|do_syscall_64|x64_sys_call|syscall_exit_to_user_mode\w*|syscall_exit_work|syscall_return_via_sysret|exit_to_user_mode\w*|arch_exit_to_user_mode\w*)$/, why: 'the entry and exit path names no system call\'s work: kernel, unclassified (not syscalls)' },

  // 5. the innermost user frame, where the kernel frames name no work
  { name: 'futex-named-by-user-frame', category: 'scheduling', scope: 'user-leaf', match: /futex|^(pthread_cond_(timed|clock)?wait|pthread_cond_signal|pthread_cond_broadcast|sem_(timed|clock)?wait|sem_post|__lll_lock_wait\w*|__lll_lock_wake\w*)$/i, why: 'the call was made from a futex wrapper (glibc\'s futex_wait/__futex_abstimed_wait_common, its condition-variable and semaphore entry points, meshbench\'s addon mb_futexWait/mb_futexWake): its entry and exit belong with the futex call, scheduling (rule futex-handoff). A sample at the wrapper with no kernel frame is that call\'s exit too: cpu-clock is an hrtimer, so a sample whose timer expired while the kernel ran with interrupts off (__schedule switches tasks with them off, and the exit path turns them off before sysret) is taken at the first user instruction after the syscall instruction, inside the wrapper' },
  { name: 'connection-call-named-by-user-frame', category: 'connections', scope: 'user-leaf', match: /^(connect|__connect|__libc_connect|accept|accept4|__libc_accept|__accept4|socket|__socket|shutdown|__shutdown)$/, why: 'the call was made from libc\'s connect, accept, accept4, socket or shutdown wrapper, calls the table counts wholesale as connections (rule connection-setup-teardown: __sys_connect, __sys_accept4, __sys_socket, __sys_shutdown): their entry and exit, and a sample taken at the wrapper\'s return in user mode (see futex-named-by-user-frame), are that call\'s' },
  { name: 'syscall-wrapper-user-mode', category: 'kernel-unclassified', scope: 'user-leaf', match: /^(syscall|read|write|readv|writev|pread64|pwrite64|preadv\w*|pwritev\w*|recv|send|recvfrom|sendto|recvmsg|sendmsg|recvmmsg|sendmmsg|epoll_wait|epoll_pwait|epoll_pwait2|epoll_ctl|close|__close|poll|ppoll|select|pselect6?|io_uring_enter|splice|sendfile64?|ioctl|fcntl64|getsockopt|setsockopt)$/, why: 'a sample with no kernel frame whose innermost user frame is a libc system-call wrapper was, but for a few instructions, the call\'s exit from the kernel: cpu-clock is an hrtimer, and a timer that expired while the exit path ran with interrupts off fires at the first user instruction after the syscall instruction, inside the wrapper. So it is the entry/exit, kernel, unclassified (as the entry and exit frames alone are), not user space; a wrapper naming a call a rule above counts wholesale (futex, connect…) gives that call\'s category instead. Only for samples without kernel frames: with them, the kernel frames decide' },
];

/** The rule every kernel stack no other rule names falls to. */
export const unclassifiedKernelRule: ClassificationRule = { name: 'kernel-unclassified', category: 'kernel-unclassified', scope: 'leaf', match: /^/, why: 'kernel frames no rule names' };
export const userspaceRule: ClassificationRule = { name: 'userspace', category: 'userspace', scope: 'capture', match: /^/, why: 'no kernel frame: the sample was taken in user mode' };

const kernelSuffix = /_\[k\]$|\s\[k\]$|\[kernel\.kallsyms\]$/;

export function isKernelFrame(frame: string): boolean {
  return kernelSuffix.test(frame);
}

function bareName(frame: string): string {
  return frame.replace(kernelSuffix, '').replace(/\+0x[0-9a-f]+$/, '').trim();
}

const rulesOf = (scope: ClassificationRule['scope']): ClassificationRule[] => classificationRules.filter((r) => r.scope === scope);
const captureRules = rulesOf('capture');
const contextRules = rulesOf('context');
const anywhereRules = rulesOf('anywhere');
const leafPairRules = rulesOf('leaf-pair');
const leafRules = rulesOf('leaf');
const userLeafRules = rulesOf('user-leaf');
/** The user-leaf rules that name a call's category (all but the generic wrapper rule, which reads only user-mode samples). */
const namingUserLeafRules = userLeafRules.filter((r) => r.name !== 'syscall-wrapper-user-mode');
const rule = (name: string): ClassificationRule => classificationRules.find((r) => r.name === name) as ClassificationRule;
/** Frames where a new context begins on top of whatever was running. */
const softirqDispatch = /^(handle_softirqs|__do_softirq)$/;
const interruptEntry = /^(asm_sysvec_\w+|asm_common_interrupt)$/;
const timerCallback = /^call_timer_fn$/;

/**
 * The innermost context's frames (root-first); the rule its entry decides (a softirq's handler), if any;
 * and the rule for frames no other rule names (a hard interrupt: what runs at its exit, such as a
 * preemption, is still named by the table).
 */
function innermostContext(kernel: readonly string[]): { frames: readonly string[]; decided: ClassificationRule | null; fallback: ClassificationRule } {
  let cut = -1;
  for (let i = kernel.length - 1; i >= 0; i -= 1) {
    const f = kernel[i] as string;
    if (softirqDispatch.test(f) || interruptEntry.test(f)) {
      cut = i;
      break;
    }
  }
  if (cut < 0) return { frames: kernel, decided: null, fallback: unclassifiedKernelRule };
  const entry = kernel[cut] as string;
  const beneath = kernel.slice(cut + 1);
  if (softirqDispatch.test(entry)) {
    const handler = beneath[0] ?? entry;
    const r = contextRules.find((x) => x.match.test(handler)) ?? rule('softirq-other');
    if (r.name === 'softirq-net') {
      const onConnection = rule('softirq-net-connection-syscall');
      if (kernel.slice(0, cut).some((f) => onConnection.match.test(f))) return { frames: beneath, decided: onConnection, fallback: r };
      return { frames: beneath, decided: null, fallback: r };
    }
    if (r.name === 'softirq-timer') {
      const cb = beneath.findIndex((f) => timerCallback.test(f));
      const callback = cb < 0 ? undefined : beneath[cb + 1];
      if (callback !== undefined && rule('softirq-tcp-timer').match.test(callback)) return { frames: beneath, decided: rule('softirq-tcp-timer'), fallback: r };
    }
    return { frames: beneath, decided: r, fallback: r };
  }
  // A hard interrupt with no softirq on top of it.
  return { frames: beneath, decided: null, fallback: contextRules.find((x) => x.match.test(entry)) ?? rule('irq-other') };
}

/** The category of a stack (root-first frames as in folded stacks: "comm;user…;kernel_[k]…") and the rule that decided it. */
export function classifyStackWithRule(framesRootFirst: readonly string[]): { category: StackCategory; rule: ClassificationRule } {
  const [comm = '', ...rest] = framesRootFirst;
  const kernel = rest.filter(isKernelFrame).map(bareName);
  const lost = captureRules[0] as ClassificationRule;
  if (rest.some((f) => lost.match.test(bareName(f)))) return { category: lost.category, rule: lost };
  if (rest.length === 0) return { category: 'unexplained', rule: rule('empty-stack') };
  const userLeaf = innermostUserFrame(rest);
  if (kernel.length === 0) {
    const kthread = rule('kernel-thread-without-kernel-frames');
    if (kthread.match.test(comm)) return { category: kthread.category, rule: kthread };
    const named = userLeaf === undefined ? undefined : userLeafRules.find((r) => r.match.test(userLeaf));
    if (named !== undefined) return { category: named.category, rule: named };
    return { category: 'userspace', rule: userspaceRule };
  }
  const { frames, decided, fallback } = innermostContext(kernel);
  if (decided !== null) return { category: decided.category, rule: decided };
  for (const r of anywhereRules) if (frames.some((f) => r.match.test(f))) return { category: r.category, rule: r };
  if (frames.length >= 2) {
    const pair = `${frames[frames.length - 2] as string};${frames[frames.length - 1] as string}`;
    for (const r of leafPairRules) if (r.match.test(pair)) return { category: r.category, rule: r };
  }
  // Receive and transmit softirqs are the network stack whatever their leaf (a copy into an skb included).
  if (fallback.name === 'softirq-net') return { category: fallback.category, rule: fallback };
  for (let i = frames.length - 1; i >= 0; i -= 1) {
    const f = frames[i] as string;
    for (const r of leafRules) {
      if (!r.match.test(f)) continue;
      if (r.name === 'syscall-entry-exit-only' && fallback === unclassifiedKernelRule && userLeaf !== undefined) {
        const named = namingUserLeafRules.find((u) => u.match.test(userLeaf));
        if (named !== undefined) return { category: named.category, rule: named };
      }
      return { category: r.category, rule: r };
    }
  }
  return { category: fallback.category, rule: fallback };
}

/** The innermost user frame of a stack (frames after the command name, root first), if it names a function. */
function innermostUserFrame(framesAfterComm: readonly string[]): string | undefined {
  for (let i = framesAfterComm.length - 1; i >= 0; i -= 1) {
    const f = framesAfterComm[i] as string;
    if (isKernelFrame(f)) continue;
    return /^\[.*\]$/.test(f) ? undefined : f;
  }
  return undefined;
}

/** Root-first frames as in folded stacks ("comm;a;b;leaf"). */
export function classifyStack(framesRootFirst: readonly string[]): StackCategory {
  return classifyStackWithRule(framesRootFirst).category;
}

/** One line of folded text: frames and sample count, or null for a line that is not one. */
export function parseFoldedLine(line: string): { frames: string[]; count: number } | null {
  const sp = line.lastIndexOf(' ');
  if (sp <= 0) return null;
  const n = Number(line.slice(sp + 1));
  if (!Number.isFinite(n) || n <= 0) return null;
  return { frames: line.slice(0, sp).split(';'), count: n };
}

/** A release function of a file (f_op->release) directly beneath __fput: sock_close for a socket. */
const socketRelease = /^(sock_close)$/;
const otherRelease = /^\w+_release(_file)?$/;
/** Beneath __fput but not a file's own release: the generic hooks __fput calls for every file. */
const genericUnderFput = /^(security_file_release|bpf_lsm_file_release|eventpoll_release_file|file_f_owner_release|security_file_free)$/;

/**
 * The share of the component's file releases that were sockets: among its samples with a file's release
 * function directly beneath __fput (fs/file_table.c calls file->f_op->release there), those in sock_close
 * over all; null when no release was sampled. Input: one component's folded stacks.
 */
export function socketReleaseShare(folded: string): number | null {
  let sockets = 0;
  let others = 0;
  for (const line of folded.split('\n')) {
    const p = parseFoldedLine(line);
    if (p === null) continue;
    const kind = releaseKind(p.frames);
    if (kind === 'socket') sockets += p.count;
    else if (kind === 'other') others += p.count;
  }
  return sockets + others === 0 ? null : sockets / (sockets + others);
}

/** Whose release a stack samples: the frame directly beneath __fput (root-first frames), if it is a file's f_op->release. */
function releaseKind(frames: readonly string[]): 'socket' | 'other' | null {
  const i = frames.findIndex((f) => isKernelFrame(f) && bareName(f) === '__fput');
  const below = i < 0 ? undefined : frames[i + 1];
  if (below === undefined || !isKernelFrame(below)) return null;
  const name = bareName(below);
  if (socketRelease.test(name)) return 'socket';
  return otherRelease.test(name) && !genericUnderFput.test(name) ? 'other' : null;
}

/** One folded line's samples in one category (a shared rule's line gives two, with fractional counts). */
export interface ClassifiedStack {
  readonly frames: readonly string[];
  readonly count: number;
  readonly category: StackCategory;
  readonly rule: string;
}

/**
 * Classifies one component's folded stacks line by line; the samples of a rule with `sharedWith`
 * (`file-close`) are split between its two categories by the component's socketReleaseShare.
 */
export function classifyFoldedStacks(folded: string): ClassifiedStack[] {
  const out: ClassifiedStack[] = [];
  let share: number | null | undefined;
  for (const line of folded.split('\n')) {
    const p = parseFoldedLine(line);
    if (p === null) continue;
    const r = classifyStackWithRule(p.frames);
    // Another file's own release (pipe_release, ext4_release_file…) is that file's, not shared.
    if (r.rule.sharedWith === undefined || releaseKind(p.frames) === 'other') {
      out.push({ frames: p.frames, count: p.count, category: r.category, rule: r.rule.name });
      continue;
    }
    if (share === undefined) share = socketReleaseShare(folded);
    const s = share ?? 0;
    if (s > 0) out.push({ frames: p.frames, count: p.count * s, category: r.rule.sharedWith, rule: r.rule.name });
    if (s < 1) out.push({ frames: p.frames, count: p.count * (1 - s), category: r.category, rule: r.rule.name });
  }
  return out;
}

/** Parses folded stacks ("frame;frame;leaf COUNT" per line) into sample counts per category (fractional where a shared rule split a line). */
export function classifyFolded(folded: string): Record<StackCategory, number> {
  const counts = Object.fromEntries(stackCategories.map((c) => [c, 0])) as Record<StackCategory, number>;
  for (const c of classifyFoldedStacks(folded)) counts[c.category] += c.count;
  return counts;
}
