import { describe, expect, it } from 'vitest';
import { fork, mulberry32, randomInt } from './random.js';

describe('mulberry32', () => {
  it('replays the same sequence for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => b())).toEqual(xs);
    expect(new Set(xs).size).toBe(100);
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const r = mulberry32(7);
    const n = 20_000;
    let below = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const x = r();
      min = Math.min(min, x);
      max = Math.max(max, x);
      if (x < 0.25) below++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(below / n).toBeGreaterThan(0.23);
    expect(below / n).toBeLessThan(0.27);
  });

  it('differs between seeds and forks deterministically', () => {
    expect(mulberry32(1)()).not.toBe(mulberry32(2)());
    const f1 = fork(mulberry32(9));
    const f2 = fork(mulberry32(9));
    expect(f1()).toBe(f2());
    expect(randomInt(mulberry32(3), 0)).toBe(0);
    const r = mulberry32(3);
    const ints = new Set(Array.from({ length: 1000 }, () => randomInt(r, 5)));
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
