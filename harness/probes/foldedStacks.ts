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
   * (`[kernel_stack_lost]`, which the classifier calls unexplained; `[user_stack_lost]`, which it passes
   * over, since its rules read kernel frames only).
   */
  readonly kernelStackLost?: boolean;
  readonly userStackLost?: boolean;
}

export type Symbolize = (ip: bigint) => string | null;

function sanitize(frame: string): string {
  return frame.replace(/[;\s]+/g, '_');
}

/** The frame name of an address no mapping or symbol names (perf's and the FlameGraph tools' spelling). */
export const unknownFrame = '[unknown]';

/**
 * Folded text per cgroup id; identical stacks merged, heaviest first. A run of consecutive unnamed frames
 * (user or kernel) becomes one "[unknown]" frame: a frame-pointer walk through code built without frame
 * pointers yields several garbage addresses in a row, and one box says as much as five (perf and
 * stackcollapse-perf.pl keep every one; meshbench differs here on purpose).
 */
export function foldStacks(samples: readonly StackSample[], kernel: Symbolize, user: (sample: StackSample) => Symbolize): Map<string, string> {
  const perCgroup = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const frames = [sanitize(s.comm || unknownFrame)];
    const userSym = user(s);
    const push = (name: string | null, suffix: string): void => {
      const frame = `${name === null ? unknownFrame : sanitize(name)}${suffix}`;
      if (name === null && frames[frames.length - 1] === frame && frames.length > 1) return;
      frames.push(frame);
    };
    if (s.userStackLost === true) frames.push('[user_stack_lost]');
    for (let i = s.userIps.length - 1; i >= 0; i -= 1) push(userSym(s.userIps[i] as bigint), '');
    if (s.kernelStackLost === true) frames.push('[kernel_stack_lost]_[k]');
    for (let i = s.kernelIps.length - 1; i >= 0; i -= 1) push(kernel(s.kernelIps[i] as bigint), '_[k]');
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

/** Samples of folded stacks taken in user mode (no kernel frame), and how many of them end in a named frame. */
export interface NamedLeafShare {
  readonly userSamples: number;
  readonly namedLeafSamples: number;
  /** namedLeafSamples / userSamples, or null when there are no user-mode samples. */
  readonly share: number | null;
}

/**
 * Whether a frame names a function: not "[unknown]" and not a bare mapping ("[libc.so.6]", "[vdso]", "[node]"),
 * which says where the code is but not what it is.
 */
export function isNamedFrame(frame: string): boolean {
  return frame !== '' && !/^\[[^\]]*\]$/.test(frame);
}

/**
 * Of the samples taken in user space (stacks with at least one user frame after the comm and no "_[k]"
 * frame), the share whose leaf frame is named (isNamedFrame): the figure issue 14's flame-graph bar asks for.
 * Input: folded text as foldStacks writes it ("comm;frames... count" per line).
 */
export function namedLeafShare(folded: string): NamedLeafShare {
  let userSamples = 0;
  let namedLeafSamples = 0;
  for (const raw of folded.split('\n')) {
    const line = raw.trim();
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const count = Number(line.slice(space + 1));
    if (!Number.isFinite(count) || count <= 0) continue;
    const frames = line.slice(0, space).split(';');
    if (frames.length < 2 || frames.some((f) => f.endsWith('_[k]'))) continue;
    userSamples += count;
    if (isNamedFrame(frames[frames.length - 1] as string)) namedLeafSamples += count;
  }
  return { userSamples, namedLeafSamples, share: userSamples === 0 ? null : namedLeafSamples / userSamples };
}
