import type { ProbeFigures } from '../results/resultTypes';
import type { Bytes, Microseconds } from '../../workloads/units';

/** Calls and time of one syscall (or kernel function) in one component. */
export interface CallTime {
  readonly count: number;
  /** null when not measured (syscall time is opt-in). */
  readonly timeUs: Microseconds | null;
}

export interface PacketRow {
  readonly device: string;
  /** Inode of the device's network namespace. */
  readonly netns: number;
  readonly direction: 'tx' | 'rx';
  readonly packets: number;
  readonly bytes: Bytes;
}

/** Everything the probes measured for one component (cgroup) during a session; units in the names. */
export interface ComponentProbeRecord {
  readonly cgroupId: string;
  // copy: TCP/UDP (inet) sockets; unix sockets apart, since a process's stdio pipes are unix sockets.
  readonly bytesSent: Bytes;
  readonly bytesReceived: Bytes;
  readonly sendCalls: number;
  readonly receiveCalls: number;
  readonly bytesSentUnix: Bytes;
  readonly bytesReceivedUnix: Bytes;
  /**
   * Bytes copied from the kernel to user space on receive, every socket family. Full hook set: counted at
   * skb_copy_datagram_iovec (skbs only). Lean hook set: every byte recvmsg returned (sock_recv_length, MSG_PEEK
   * aside), which for TCP, UDP and unix sockets is the same copy, plus what sk_msg redirects hand over.
   */
  readonly bytesCopied: Bytes;
  /** skb copies (full hook set); null in the lean set (see `unmeasured`). */
  readonly copyCalls: number | null;
  // connections (TCP)
  readonly connectionsOpened: number;
  readonly connectionsAccepted: number;
  readonly connectionsEstablished: number;
  readonly connectionsClosed: number;
  readonly connectFailures: number;
  /** Retransmitted skbs of the component's sockets (full), or segments of its network namespace (lean, Tcp RetransSegs). */
  readonly retransmits: number | null;
  /** RSTs sent by the component's sockets (full), or by its network namespace (lean, Tcp OutRsts). */
  readonly resetsSent: number | null;
  readonly resetsReceived: number;
  readonly handshakeUsMean: Microseconds | null;
  readonly handshakeUsP50: Microseconds | null;
  readonly handshakeUsP99: Microseconds | null;
  /** log2 slots: slot s counts handshakes of [2^s, 2^(s+1)) µs. */
  readonly handshakeUsLog2: readonly number[];
  // scheduling: the kernel's nvcsw/nivcsw rule either way (sched_switch in the full set, the threads' own
  // counters in /proc in the lean one)
  readonly contextSwitchesVoluntary: number;
  readonly contextSwitchesInvoluntary: number;
  /** null in the lean hook set (no per-thread wake-up counter without schedstats). */
  readonly wakeups: number | null;
  readonly onCpuUs: Microseconds;
  /** null in the lean hook set. */
  readonly offCpuUs: Microseconds | null;
  readonly offCpuUsP99: Microseconds | null;
  readonly runqDelayUsTotal: Microseconds;
  readonly runqDelayUsP50: Microseconds | null;
  readonly runqDelayUsP99: Microseconds | null;
  readonly runqDelayUsLog2: readonly number[];
  readonly offCpuUsLog2: readonly number[];
  // syscalls
  readonly syscalls: {
    /** Syscalls completed in the window (scaled to the whole window when countedShare < 1). */
    readonly total: number;
    readonly timeUs: Microseconds | null;
    readonly byName: Readonly<Record<string, CallTime>>;
    /**
     * Share of the window the counting ran: 1 = every syscall counted; below 1 the hook ran in time slices
     * and each count is scaled by 1 / countedShare (perf's multiplexing rule), an estimate.
     */
    readonly countedShare: number;
  };
  /**
   * Packets per device, namespace and direction. Full hook set: sent by the component's sockets, received in
   * its private namespace. Lean: the device counters of its private namespace, both directions, on the first
   * registered component of that namespace (null on the others, see `unmeasured`).
   */
  readonly packets: readonly PacketRow[] | null;
  /** Figures that came from somewhere other than the default eBPF hook: figure -> source. */
  readonly sources: Readonly<Record<string, string>>;
  /** Figures that are null (or empty histograms): figure -> why. */
  readonly unmeasured: Readonly<Record<string, string>>;
  /** kprobe/fentry detail (time inside tcp_sendmsg/tcp_recvmsg) when the kernel allows it, else null. */
  readonly functionTimes: Readonly<Record<string, CallTime>> | null;
  /** cpu-clock samples taken in this component (0 when sampling is off). */
  readonly samples: number;
}

export function emptyRecord(cgroupId: string): ComponentProbeRecord {
  return {
    cgroupId,
    bytesSent: 0, bytesReceived: 0, sendCalls: 0, receiveCalls: 0, bytesSentUnix: 0, bytesReceivedUnix: 0, bytesCopied: 0, copyCalls: 0,
    connectionsOpened: 0, connectionsAccepted: 0, connectionsEstablished: 0, connectionsClosed: 0, connectFailures: 0, retransmits: 0,
    resetsSent: 0, resetsReceived: 0, handshakeUsMean: null, handshakeUsP50: null, handshakeUsP99: null, handshakeUsLog2: [],
    contextSwitchesVoluntary: 0, contextSwitchesInvoluntary: 0, wakeups: 0, onCpuUs: 0, offCpuUs: 0, offCpuUsP99: null,
    runqDelayUsTotal: 0, runqDelayUsP50: null, runqDelayUsP99: null, runqDelayUsLog2: [], offCpuUsLog2: [],
    syscalls: { total: 0, timeUs: null, byName: {}, countedShare: 1 },
    packets: [],
    sources: {},
    unmeasured: {},
    functionTimes: null,
    samples: 0,
  };
}

/** Per-request figures of one component, given the requests completed in the session. */
export interface PerRequestFigures {
  readonly bytesSentPerRequest: number;
  readonly bytesReceivedPerRequest: number;
  readonly bytesCopiedPerRequest: number;
  readonly connectionsOpenedPerRequest: number;
  readonly connectionsAcceptedPerRequest: number;
  readonly contextSwitchesPerRequest: number;
  readonly syscallsPerRequest: number;
  readonly onCpuUsPerRequest: number;
  /** null when the packets were not measured for this component. */
  readonly packetsPerRequest: number | null;
}

export function perRequest(r: ComponentProbeRecord, requests: number): PerRequestFigures | null {
  if (!(requests > 0)) return null;
  const per = (n: number): number => n / requests;
  return {
    bytesSentPerRequest: per(r.bytesSent),
    bytesReceivedPerRequest: per(r.bytesReceived),
    bytesCopiedPerRequest: per(r.bytesCopied),
    connectionsOpenedPerRequest: per(r.connectionsOpened),
    connectionsAcceptedPerRequest: per(r.connectionsAccepted),
    contextSwitchesPerRequest: per(r.contextSwitchesVoluntary + r.contextSwitchesInvoluntary),
    syscallsPerRequest: per(r.syscalls.total),
    onCpuUsPerRequest: per(r.onCpuUs),
    packetsPerRequest: r.packets === null ? null : per(r.packets.reduce((a, p) => a + p.packets, 0)),
  };
}

/** The subset the overhead breakdown reads (harness/results/resultTypes.ts ProbeFigures). */
export function toProbeFigures(r: ComponentProbeRecord): ProbeFigures {
  return {
    bytesSent: r.bytesSent,
    bytesReceived: r.bytesReceived,
    connectionsOpened: r.connectionsOpened,
    connectionsAccepted: r.connectionsAccepted,
    contextSwitchesVoluntary: r.contextSwitchesVoluntary,
    contextSwitchesInvoluntary: r.contextSwitchesInvoluntary,
    syscalls: r.syscalls.total,
    onCpuUs: r.onCpuUs,
  };
}
