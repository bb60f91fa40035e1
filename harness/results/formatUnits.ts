/* Units for people, shared by the run summary and the reports. */
/** Latency for people: "850 µs", "1.25 ms", "2.10 s". */
export function formatUs(us: number): string {
  const a = Math.abs(us);
  if (a >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (a >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(a < 10 ? 1 : 0)} µs`;
}

export function formatSigned(v: number, digits = 1, unit = ''): string {
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}${unit}`;
}

export function formatSignedUs(us: number): string {
  return `${us >= 0 ? '+' : '−'}${formatUs(Math.abs(us))}`;
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b.toFixed(0)} B`;
}

/** Escapes a Markdown table cell. */
export function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
