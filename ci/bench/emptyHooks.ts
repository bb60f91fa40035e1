import * as bpf from '../../bpf/bpfBindings';
import { TimeSlicer, type SliceSpec } from '../../harness/probes/timeSlicer';

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
 * Empty programs attached to the same hooks as a ProbeSet, the same way (the sliced ones in the same time
 * slices): what the kernel charges for running any program there, so the bench can tell the dispatch floor
 * from the probes' own work.
 */
export class EmptyHooks {
  private readonly h: bpf.ObjectHandle;
  private readonly programs: string[];
  private readonly slicedPrograms: string[];
  private links: bpf.LinkHandle[] = [];
  private sliceLinks: bpf.LinkHandle[] = [];
  private slicer: TimeSlicer | null = null;

  /** sections: attached for the whole run; sliced: attached onMs of every periodMs. Throws for a hook without a twin. */
  constructor(sections: readonly string[], private readonly sliced: { readonly sections: readonly string[]; readonly spec: SliceSpec } | null = null) {
    this.h = bpf.openObject(emptyHooksObject);
    try {
      const all = bpf.describeObject(this.h).programs;
      const twins = new Map(all.map((p) => [p.section, p.name]));
      const missing = [...sections, ...(sliced?.sections ?? [])].filter((s) => !twins.has(s));
      if (missing.length > 0) throw new Error(`no empty twin for hook ${missing.join(', ')}: add one to bpf/emptyHooks.bpf.c`);
      this.programs = sections.map((s) => twins.get(s) as string);
      this.slicedPrograms = (sliced?.sections ?? []).map((s) => twins.get(s) as string);
      for (const p of all) bpf.setAutoload(this.h, p.name, this.programs.includes(p.name) || this.slicedPrograms.includes(p.name));
      bpf.load(this.h);
    } catch (err) {
      bpf.close(this.h);
      throw err;
    }
  }

  attach(): void {
    try {
      for (const p of this.programs) this.links.push(bpf.attach(this.h, p));
      if (this.sliced !== null && this.slicedPrograms.length > 0) {
        this.slicer = new TimeSlicer(this.sliced.spec, () => {
          for (const p of this.slicedPrograms) this.sliceLinks.push(bpf.attach(this.h, p));
        }, () => {
          for (const l of this.sliceLinks.splice(0)) bpf.detach(l);
        });
        this.slicer.start();
      }
    } catch (err) {
      this.detach();
      throw err;
    }
  }

  detach(): void {
    this.slicer?.stop();
    this.slicer = null;
    for (const l of this.sliceLinks.splice(0)) bpf.detach(l);
    for (const l of this.links.splice(0)) bpf.detach(l);
  }

  close(): void {
    this.detach();
    bpf.close(this.h);
  }
}
