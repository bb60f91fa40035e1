/*
 * Folded stacks (Brendan Gregg's format, what flamegraph.pl, speedscope and inferno read): one line per distinct
 * stack, root first, "comm;user frames;kernel frames_[k] count". Kernel frames carry the "_[k]" suffix that
 * harness/attribution/stackClassifier.ts keys on.
 */
export interface StackSample {
  readonly cgroupId: string;
  readonly pid: number;
  readonly comm: string;
  /** Leaf first, as the kernel's stack-trace map stores them; empty when none was captured. */
  readonly kernelIps: readonly bigint[];
  readonly userIps: readonly bigint[];
  readonly count: number;
  /**
   * The capture failed (bpf_get_stackid returned an error other than -EFAULT, e.g. -EEXIST on a hash
   * collision in the stack-trace map, or the id no longer resolves): the sample gets a marker frame
   * (`[kernel_stack_lost]`, `[user_stack_lost]`) that the classifier calls unexplained.
   */
  readonly kernelStackLost?: boolean;
  readonly userStackLost?: boolean;
}

export type Symbolize = (ip: bigint) => string | null;

function sanitize(frame: string): string {
  return frame.replace(/[;\s]+/g, '_');
}

/** Folded text per cgroup id; identical stacks merged, heaviest first. */
export function foldStacks(samples: readonly StackSample[], kernel: Symbolize, user: (sample: StackSample) => Symbolize): Map<string, string> {
  const perCgroup = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const frames = [sanitize(s.comm || '[unknown]')];
    const userSym = user(s);
    if (s.userStackLost === true) frames.push('[user_stack_lost]');
    for (let i = s.userIps.length - 1; i >= 0; i -= 1) frames.push(sanitize(userSym(s.userIps[i] as bigint) ?? '[unknown]'));
    if (s.kernelStackLost === true) frames.push('[kernel_stack_lost]_[k]');
    for (let i = s.kernelIps.length - 1; i >= 0; i -= 1) frames.push(`${sanitize(kernel(s.kernelIps[i] as bigint) ?? '[unknown]')}_[k]`);
    const line = frames.join(';');
    const lines = perCgroup.get(s.cgroupId) ?? new Map<string, number>();
    perCgroup.set(s.cgroupId, lines);
    lines.set(line, (lines.get(line) ?? 0) + s.count);
  }
  const out = new Map<string, string>();
  for (const [cg, lines] of perCgroup) {
    out.set(cg, [...lines].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([l, n]) => `${l} ${n}`).join('\n'));
  }
  return out;
}
