import type { ProbeDefinition, RecordPart } from './probeDefinition';
import { log2Quantile } from './log2Histogram';
import { sumPerCpuU64 } from './perCpuValues';
import { slotCgroup } from './registry';
import { TaskSchedSource } from './counterSources';

/** bpf/sched.bpf.c; struct sched_counters (bpf/sched.h): 7 counters, 32 run-queue slots, 32 off-CPU slots. */
const counters = 7;
const histSlots = 32;

export const schedProbe: ProbeDefinition = {
  name: 'sched',
  object: 'sched',
  variants: [
    { hook: 'tp_btf sched:sched_switch, sched_wakeup, sched_wakeup_new (task storage)', programs: ['mb_switch', 'mb_wakeup', 'mb_wakeup_new'] },
    { hook: 'raw_tp sched:sched_switch, sched_wakeup, sched_wakeup_new (pid hash)', programs: ['mb_switch_raw', 'mb_wakeup_raw', 'mb_wakeupnew_raw'] },
  ],
  // Every thread keeps nvcsw/nivcsw, on-CPU and run-queue time itself: the lean set reads them at the edges.
  lean: { programs: [], source: () => new TaskSchedSource() },
  statsMaps: ['sched_stats', 'task_times_pid'],
  optional: false,
  decode(dump, cpus, slots) {
    const out = new Map<string, RecordPart>();
    for (const [key, value] of dump('sched_stats')) {
      const v = sumPerCpuU64(value, counters + 2 * histSlots, cpus);
      const [voluntary, involuntary, onNs, offNs, runqNs, , wakeups] = v;
      const runq = v.slice(counters, counters + histSlots);
      const off = v.slice(counters + histSlots);
      const cg = slotCgroup(slots, key.readUInt32LE(0));
      if (cg === undefined) continue;
      out.set(cg, {
        contextSwitchesVoluntary: voluntary ?? 0, contextSwitchesInvoluntary: involuntary ?? 0, wakeups: wakeups ?? 0,
        onCpuUs: (onNs ?? 0) / 1000, offCpuUs: (offNs ?? 0) / 1000, offCpuUsP99: log2Quantile(off, 0.99),
        runqDelayUsTotal: (runqNs ?? 0) / 1000, runqDelayUsP50: log2Quantile(runq, 0.5), runqDelayUsP99: log2Quantile(runq, 0.99),
        runqDelayUsLog2: runq, offCpuUsLog2: off,
      });
    }
    return out;
  },
};
