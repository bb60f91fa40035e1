import * as bpf from '../../bpf/bpfBindings';

/** The object of empty programs, one per probe hook (bpf/emptyHooks.bpf.c). */
export const emptyHooksObject = 'emptyHooks';

/** section -> program name of the empty twins. */
export function emptyTwins(): Map<string, string> {
  const h = bpf.openObject(emptyHooksObject);
  try {
    return new Map(bpf.describeObject(h).programs.map((p) => [p.section, p.name]));
  } finally {
    bpf.close(h);
  }
}

/**
 * Empty programs attached to the same hooks as a ProbeSet: what the kernel charges for running any program
 * there, so the bench can tell the dispatch floor from the probes' own work.
 */
export class EmptyHooks {
  private readonly h: bpf.ObjectHandle;
  private readonly programs: string[];
  private links: bpf.LinkHandle[] = [];

  constructor(sections: readonly string[]) {
    this.h = bpf.openObject(emptyHooksObject);
    try {
      const all = bpf.describeObject(this.h).programs;
      const twins = new Map(all.map((p) => [p.section, p.name]));
      const missing = sections.filter((s) => !twins.has(s));
      if (missing.length > 0) throw new Error(`no empty twin for hook ${missing.join(', ')}: add one to bpf/emptyHooks.bpf.c`);
      this.programs = sections.map((s) => twins.get(s) as string);
      for (const p of all) bpf.setAutoload(this.h, p.name, this.programs.includes(p.name));
      bpf.load(this.h);
    } catch (err) {
      bpf.close(this.h);
      throw err;
    }
  }

  attach(): void {
    try {
      for (const p of this.programs) this.links.push(bpf.attach(this.h, p));
    } catch (err) {
      this.detach();
      throw err;
    }
  }

  detach(): void {
    for (const l of this.links.splice(0)) bpf.detach(l);
  }

  close(): void {
    this.detach();
    bpf.close(this.h);
  }
}
