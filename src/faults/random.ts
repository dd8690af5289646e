/**
 * Seeded random source for the fault layer, so jitter, slicing and toxicity are replayable: the same seed
 * and the same sequence of events give the same decisions. Inject it (`startProxy({ random })`); never
 * call `Math.random()` in a toxic.
 */

/** Uniform in [0, 1), like `Math.random()`. */
export type Random = () => number;

/** Default seed when none is given: fixed, so two runs without a seed still agree. */
export const DEFAULT_SEED = 0x5eed;

/** mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast, good enough for fault decisions. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An independent stream derived from `random` (one per connection, one per direction). */
export function fork(random: Random): Random {
  return mulberry32(Math.floor(random() * 4_294_967_296));
}

/** Integer uniform in [0, n); 0 when n ≤ 0. */
export function randomInt(random: Random, n: number): number {
  return n > 0 ? Math.floor(random() * n) : 0;
}
