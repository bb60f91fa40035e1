/*
 * Per-CPU map values arrive as one slot per possible CPU, each padded to 8 bytes. Every probe record here is a
 * struct of u64 fields, so a value is decoded by summing field i over the CPUs.
 */
export function sumPerCpuU64(value: Buffer, fields: number, cpus: number): number[] {
  const stride = fields * 8;
  if (value.length < stride * cpus) throw new RangeError(`per-CPU value of ${value.length} bytes, expected ${stride * cpus}`);
  const sums = new Array<number>(fields).fill(0);
  for (let cpu = 0; cpu < cpus; cpu += 1) {
    for (let f = 0; f < fields; f += 1) sums[f] = (sums[f] as number) + Number(value.readBigUInt64LE(cpu * stride + f * 8));
  }
  return sums;
}

/** A struct of u64 fields in a plain (not per-CPU) map value. */
export function readU64Fields(value: Buffer, fields: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < fields; f += 1) out.push(Number(value.readBigUInt64LE(f * 8)));
  return out;
}

export function u64Key(id: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(id);
  return b;
}
