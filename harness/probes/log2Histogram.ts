/*
 * The kernel side keeps log2 histograms (bcc style): slot s counts values in [2^s, 2^(s+1)), slot 0 also
 * holds 0. Quantiles interpolate linearly inside the slot, which is as precise as the data allows.
 */
export function slotLowerBound(slot: number): number {
  return slot === 0 ? 0 : 2 ** slot;
}

/** q in [0, 1]; null for an empty histogram. */
export function log2Quantile(slots: readonly number[], q: number): number | null {
  const total = slots.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let s = 0; s < slots.length; s += 1) {
    const n = slots[s] as number;
    if (n === 0) continue;
    if (seen + n >= rank) {
      const lo = slotLowerBound(s);
      const hi = 2 ** (s + 1);
      return lo + ((hi - lo) * (rank - seen)) / n;
    }
    seen += n;
  }
  return 2 ** slots.length;
}

export function addSlots(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(Math.max(a.length, b.length)).fill(0);
  for (let i = 0; i < out.length; i += 1) out[i] = (a[i] ?? 0) + (b[i] ?? 0);
  return out;
}
