import type { DoctorCheck } from './doctorCheck';

/** Pure: the checks as one table for people (what, status, found, enables, how to enable). */
export function formatDoctorTable(checks: readonly DoctorCheck[]): string {
  const rows = [['check', 'status', 'found', 'enables', 'to enable'], ...checks.map((c) => [
    c.name, c.ok ? 'ok' : c.core ? 'MISSING (core)' : 'missing', c.detail, c.enables, c.fix ?? '',
  ])];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd());
  const missingCore = checks.filter((c) => c.core && !c.ok).map((c) => c.name);
  lines.push('', missingCore.length === 0 ? 'core: ok (root, cgroups, BTF or tracepoints): meshbench run works here' : `core missing: ${missingCore.join(', ')}: meshbench run cannot work here`);
  return `${lines.join('\n')}\n`;
}
