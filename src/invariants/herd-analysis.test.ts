import { describe, expect, it } from 'vitest';
import { analyzeHerd, type HerdArrival, type HerdOptions, patternOf } from './herd-analysis.js';

/** Seeded uniform [0, 1) (mulberry32), so the synthetic traffic is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPTS: HerdOptions = {
  bucketMs: 50,
  outage: { startMs: 2000, endMs: 7000 },
  fromMs: 0,
  toMs: 14_000,
  baselineMs: 1000,
  waveFactor: 3,
  localMs: 1000,
  settleMs: 1000,
  smoothMs: 500,
  tolerance: 0.35,
};

/** Steady traffic: `perSec` first attempts a second, spread uniformly, over [from, to). */
function steady(perSec: number, from: number, to: number, random: () => number): HerdArrival[] {
  const n = Math.round(((to - from) / 1000) * perSec);
  return Array.from({ length: n }, () => ({ atMs: from + random() * (to - from), retry: false }));
}

/** `size` retries arriving within `spreadMs` of `atMs`. */
function burst(atMs: number, size: number, spreadMs: number, random: () => number): HerdArrival[] {
  return Array.from({ length: size }, () => ({ atMs: atMs + random() * spreadMs, retry: true }));
}

describe('analyzeHerd', () => {
  it('finds retry waves at +1 s, +3 s and +7 s after the outage, with doubling gaps', () => {
    const r = rng(1);
    const arrivals = [
      ...steady(125, 0, 14_000, r),
      ...burst(3000, 250, 40, r),
      ...burst(5000, 250, 40, r),
      ...burst(9000, 250, 40, r),
    ];
    const h = analyzeHerd('upstream', arrivals, OPTS);
    expect(h.waves.map((w) => w.sinceOutageMs)).toEqual([1000, 3000, 7000]);
    expect(h.waves.map((w) => w.gapMs)).toEqual([undefined, 2000, 4000]);
    expect(h.pattern).toBe('doubling');
    for (const w of h.waves) {
      expect(w.size).toBeGreaterThanOrEqual(250);
      expect(w.retries).toBe(250);
    }
    expect(h.steadyPerBucket).toBeGreaterThan(4);
    expect(h.steadyPerBucket).toBeLessThan(9);
    expect(h.peakToMean).toBeGreaterThan(20);
    // The steady rate never left, apart from the +7 s wave two seconds after the outage end.
    expect(h.recoveryMs).toBeGreaterThanOrEqual(2000);
    expect(h.recoveryMs).toBeLessThan(3000);
    expect(h.buckets[0]).toEqual({ tMs: 0, count: expect.any(Number), retries: 0 });
    expect(h.buckets).toHaveLength(280);
  });

  it('finds no wave in jittered retries, even on a raised plateau during the outage', () => {
    const r = rng(2);
    const arrivals = [
      ...steady(125, 0, 14_000, r),
      // Every call retried a few times during the outage: 3× the traffic, spread by full jitter.
      ...steady(250, 2000, 7000, r).map((a) => ({ ...a, retry: true })),
    ];
    const h = analyzeHerd('upstream', arrivals, OPTS);
    expect(h.waves).toEqual([]);
    expect(h.pattern).toBe('none');
    expect(h.peakToMean).toBeLessThan(3);
    expect(h.recoveryMs).toBe(0);
  });

  /** 200 calls/s, one every 5 ms, answered at once (none in flight): 10 per bucket, no attempt header. */
  const even = (): HerdArrival[] =>
    Array.from({ length: 2800 }, (_, i) => ({ atMs: i * 5 + 0.5, endMs: i * 5 + 1 }));

  it('takes in the buckets around a peak that are over half its threshold: a smeared wave counts whole', () => {
    // A batch of 80 calls spread over 250 ms on top of 10 per bucket: [20, 25, 35, 30, 20]. Only one
    // bucket is over 3× the level (30); with its neighbours over halfway (20) the wave holds 90 calls,
    // 60 over the level.
    const batch = [10, 15, 25, 20, 10].flatMap((size, b) =>
      Array.from({ length: size }, (_, i) => ({
        atMs: 4000 + b * 50 + (i + 0.5) * (50 / size),
        endMs: 4000,
      })),
    );
    const h = analyzeHerd('upstream', [...even(), ...batch], { ...OPTS, minWaveSize: 50 });
    expect(h.waves).toEqual([
      { startMs: 4050, sinceOutageMs: 2050, size: 90, excess: 60, retries: 60, peak: 35, buckets: 3 },
    ]);
    expect(h.retriesFrom).toBe('excess');
  });

  it('does not take the backlog of a stall for a wave: calls missing just before a burst count against it', () => {
    // The process stamping the calls stalls for 400 ms, then the 80 calls it held arrive at once.
    const stalled = even().map((a) =>
      a.atMs >= 4000 && a.atMs < 4400 ? { ...a, atMs: 4400 + (a.atMs - 4000) / 40 } : a,
    );
    expect(analyzeHerd('upstream', stalled, { ...OPTS, minWaveSize: 50 }).waves).toEqual([]);
    // The same 80 calls on top of the traffic are a wave.
    const extra = even()
      .filter((a) => a.atMs >= 4000 && a.atMs < 4400)
      .map((a) => ({ ...a, atMs: 4400 + (a.atMs - 4000) / 40 }));
    const h = analyzeHerd('upstream', [...even(), ...extra], { ...OPTS, minWaveSize: 50 });
    expect(h.waves.map((w) => [w.sinceOutageMs, w.size, w.excess])).toEqual([[2400, 90, 80]]);
  });

  it('says the rate did not recover when it stays away from steady until the end', () => {
    const r = rng(3);
    const arrivals = [...steady(125, 0, 2000, r), ...steady(20, 2000, 14_000, r)];
    expect(analyzeHerd('upstream', arrivals, OPTS).recoveryMs).toBeNull();
  });

  it('aligns buckets on the outage start and drops the partial last bucket', () => {
    const h = analyzeHerd('upstream', [{ atMs: 2000 }, { atMs: 2049.9 }, { atMs: 1999.9 }], {
      ...OPTS,
      outage: { startMs: 2010, endMs: 2500 },
      fromMs: 1000,
      toMs: 3025,
    });
    expect(h.buckets[0]!.tMs).toBe(960);
    expect(h.buckets.at(-1)!.tMs).toBe(2960);
    const at = (t: number) => h.buckets.find((b) => b.tMs === t)!.count;
    expect(at(1960)).toBe(2);
    expect(at(2010)).toBe(1);
  });

  it('names the pattern of the gaps', () => {
    const waves = (gaps: number[], sizes: number[] = []) => {
      let t = 0;
      return [0, ...gaps].map((g, i) => {
        t += g;
        return {
          startMs: t,
          sinceOutageMs: t,
          size: sizes[i] ?? 100,
          excess: 1,
          retries: 1,
          peak: 1,
          buckets: 1,
        };
      });
    };
    expect(patternOf(waves([]))).toBe('none');
    expect(patternOf(waves([1000]))).toBe('irregular');
    expect(patternOf(waves([1000, 2000, 4000]))).toBe('doubling');
    expect(patternOf(waves([1000, 1050, 980]))).toBe('periodic');
    expect(patternOf(waves([1000, 300, 2500]))).toBe('irregular');
    // A small split-off of a wave is not a beat of its own.
    expect(patternOf(waves([2000, 300, 4200], [200, 250, 40, 180]))).toBe('doubling');
  });
});
