/** A source of uniform random numbers in [0, 1), injected wherever a statistic resamples. */
export type RandomSource = () => number;

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast and seedable, ample for resampling. Every
 * interval and permutation test in meshbench draws from one of these with a fixed seed, so the same
 * results folder always gives the same figures.
 */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from text (FNV-1a), so a figure's resampling depends on what it is, not on the order figures are computed in. */
export function seedFrom(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A standard normal deviate (Box–Muller), for simulations. */
export function gaussian(random: RandomSource): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
