import type { ComponentProbeRecord } from './probeRecord';
import type { ProbeStatus } from './probeSet';

/* Text for `meshbench probe`, perf-stat style: pure, so the layout is tested without a kernel. */

const int = (n: number | null): string => (n === null ? '-' : Math.round(n).toLocaleString('en-US'));

function us(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(2)} s`;
  if (n >= 1000) return `${(n / 1000).toFixed(2)} ms`;
  return `${n.toFixed(n < 10 ? 1 : 0)} µs`;
}

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${int(n)} B (${(n / 1024 / 1024).toFixed(1)} MiB)`;
  return `${int(n)} B`;
}

export interface ProbeReportInput {
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly durationUs: number;
  readonly record: ComponentProbeRecord;
  readonly probes: readonly ProbeStatus[];
  readonly topSyscalls?: number;
}

export function formatProbeReport(r: ProbeReportInput): string {
  const c = r.record;
  const rows: Array<[string, string]> = [
    ['bytes sent / received (TCP, UDP)', `${bytes(c.bytesSent)} / ${bytes(c.bytesReceived)}  (${int(c.sendCalls)} / ${int(c.receiveCalls)} calls)`],
    ['bytes sent / received (unix)', `${bytes(c.bytesSentUnix)} / ${bytes(c.bytesReceivedUnix)}`],
    ['bytes copied from skbs', `${bytes(c.bytesCopied)}  (${int(c.copyCalls)} copies)`],
    ['connections opened / accepted / closed', `${int(c.connectionsOpened)} / ${int(c.connectionsAccepted)} / ${int(c.connectionsClosed)}  (failed ${int(c.connectFailures)}, retransmits ${int(c.retransmits)}, resets sent ${int(c.resetsSent)} / received ${int(c.resetsReceived)})`],
    ['handshake p50 / p99', `${us(c.handshakeUsP50)} / ${us(c.handshakeUsP99)}`],
    ['context switches voluntary / involuntary', `${int(c.contextSwitchesVoluntary)} / ${int(c.contextSwitchesInvoluntary)}  (${int(c.wakeups)} wake-ups)`],
    ['run-queue delay p50 / p99 / total', `${us(c.runqDelayUsP50)} / ${us(c.runqDelayUsP99)} / ${us(c.runqDelayUsTotal)}`],
    ['on-CPU / off-CPU', `${us(c.onCpuUs)} / ${us(c.offCpuUs)}`],
    ['syscalls', c.syscalls.timeUs === null ? int(c.syscalls.total) : `${int(c.syscalls.total)}  (${us(c.syscalls.timeUs)} inside)`],
  ];
  const top = Object.entries(c.syscalls.byName).slice(0, r.topSyscalls ?? 8);
  for (const [name, t] of top) rows.push([`  ${name}`, t.timeUs === null ? int(t.count) : `${int(t.count)}  (${us(t.timeUs)})`]);
  for (const p of c.packets ?? []) rows.push([`packets ${p.device} ${p.direction} (netns ${p.netns})`, `${int(p.packets)}  (${bytes(p.bytes)})`]);
  if (c.functionTimes !== null) for (const [fn, t] of Object.entries(c.functionTimes)) rows.push([`inside ${fn}`, `${int(t.count)} calls, ${us(t.timeUs)}`]);
  if (c.samples > 0) rows.push(['cpu-clock samples', int(c.samples)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = [`meshbench probe: ${r.command.join(' ')} (exit ${r.exitCode}, ${us(r.durationUs)})`];
  for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}  ${v}`);
  for (const [figure, source] of Object.entries(c.sources)) lines.push(`  ${figure} from ${source}`);
  for (const [figure, why] of Object.entries(c.unmeasured)) lines.push(`  ${figure} not measured: ${why}`);
  for (const p of r.probes) if (!p.available) lines.push(`  ${p.name}: ${p.reason ?? 'unavailable'}`);
  return `${lines.join('\n')}\n`;
}
