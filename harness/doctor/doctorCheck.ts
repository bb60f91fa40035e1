/** One row of `meshbench doctor`: what was checked, whether it is there, what it enables and how to get it. */
export interface DoctorCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was found (a version, a path, the reason it is missing). */
  readonly detail: string;
  /** What meshbench can do with it. */
  readonly enables: string;
  /** What it would take to enable it; null when ok. */
  readonly fix: string | null;
  /** A missing core check (root, BTF or tracepoints, cgroups) makes doctor exit non-zero. */
  readonly core: boolean;
}
