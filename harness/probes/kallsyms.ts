import fs from 'node:fs';

/** Kernel text symbols sorted by address, for turning stack-trace IPs into names (bcc's ksyms). */
export interface KernelSymbols {
  readonly addresses: BigUint64Array;
  readonly names: readonly string[];
}

/** Parses /proc/kallsyms text; addresses read as 0 (not root, kptr_restrict) leave the table empty. */
export function parseKallsyms(text: string): KernelSymbols {
  const rows: Array<[bigint, string]> = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(' ');
    if (a <= 0) continue;
    const type = line[a + 1];
    if (type !== 't' && type !== 'T' && type !== 'w' && type !== 'W') continue;
    const rest = line.slice(a + 3);
    const tab = rest.indexOf('\t');
    const addr = BigInt(`0x${line.slice(0, a)}`);
    if (addr === 0n) continue;
    rows.push([addr, tab < 0 ? rest : rest.slice(0, tab)]);
  }
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { addresses: BigUint64Array.from(rows.map((r) => r[0])), names: rows.map((r) => r[1]) };
}

export function loadKernelSymbols(file = '/proc/kallsyms'): KernelSymbols {
  try {
    return parseKallsyms(fs.readFileSync(file, 'utf8'));
  } catch {
    return { addresses: new BigUint64Array(0), names: [] };
  }
}

/** The symbol containing ip (greatest start <= ip), or null. */
export function kernelSymbol(table: KernelSymbols, ip: bigint): string | null {
  let lo = 0;
  let hi = table.addresses.length - 1;
  if (hi < 0 || ip < (table.addresses[0] as bigint)) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((table.addresses[mid] as bigint) <= ip) lo = mid;
    else hi = mid - 1;
  }
  return table.names[lo] ?? null;
}
