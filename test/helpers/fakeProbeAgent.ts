import { ProbeAgent } from '../../harness/platforms/kubernetes/probeAgent';
import type { MeasuredComponent, ProbeProvider } from '../../harness/runner/platformSession';

/*
 * What the API stand-in's kubelet runs for the probes DaemonSet's pods: the real probe agent (HTTP, target
 * resolution against the node's cgroup tree) over a fake probe provider that reports, per component, the
 * cgroup directory it was given and fixed counters. The BPF side is tested in test/privileged.
 */
const arg = (name: string): string => process.argv[process.argv.indexOf(name) + 1] ?? '';

const provider: ProbeProvider = {
  unavailableReason: () => null,
  open: () => {
    let measured: readonly MeasuredComponent[] = [];
    return {
      start: async (components) => { measured = components; },
      stop: async () => ({
        figures: Object.fromEntries(measured.map((c) => [c.name, { bytesSent: 1000, bytesReceived: 1000, connectionsOpened: 1, connectionsAccepted: 1, contextSwitchesVoluntary: 10, contextSwitchesInvoluntary: 1, syscalls: 100, onCpuUs: 50 }])),
        detail: Object.fromEntries(measured.map((c) => [c.name, { v2Path: c.v2Path, node: c.node }])),
        foldedStacks: {},
      }),
    };
  },
  close: async () => undefined,
};

const agent = new ProbeAgent({ host: '127.0.0.1', port: Number(arg('--port')), node: arg('--node'), cgroupRoot: arg('--cgroup-root'), openProvider: async () => provider, token: process.env.MESHBENCH_PROBE_TOKEN ?? '' });
agent.listen().then((port) => process.stderr.write(`fake probe-agent: listening on port ${port}\n`), (err: unknown) => { process.stderr.write(`${String(err)}\n`); process.exit(1); });
process.once('SIGTERM', () => { void agent.close().then(() => process.exit(0)); });
