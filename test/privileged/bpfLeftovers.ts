import { execFileSync } from 'node:child_process';

/*
 * Every meshbench BPF program is named mb_* (bpf/*.bpf.c), so `bpftool prog list` finds what is left;
 * links are matched through their program ids.
 */
export interface BpfLeftovers {
  programs: string[];
  links: string[];
}

interface BpftoolProg { id: number; name?: string }
interface BpftoolLink { id: number; prog_id?: number }

function bpftoolJson<T>(args: string[]): T[] {
  try {
    return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as T[];
  } catch {
    return [];
  }
}

export function findBpfLeftovers(): BpfLeftovers {
  const progs = bpftoolJson<BpftoolProg>(['prog', 'list']).filter((p) => (p.name ?? '').startsWith('mb_'));
  const ids = new Set(progs.map((p) => p.id));
  const links = bpftoolJson<BpftoolLink>(['link', 'list']).filter((l) => l.prog_id !== undefined && ids.has(l.prog_id));
  return { programs: progs.map((p) => `${p.id} ${p.name ?? ''}`), links: links.map((l) => `link ${l.id} prog ${l.prog_id ?? ''}`) };
}

/** The kernel frees programs after an RCU grace period (hundreds of ms for tracing programs): poll a while. */
export async function settledBpfLeftovers(timeoutMs = 5000): Promise<BpfLeftovers> {
  const deadline = Date.now() + timeoutMs;
  let left = findBpfLeftovers();
  while ((left.programs.length > 0 || left.links.length > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = findBpfLeftovers();
  }
  return left;
}
