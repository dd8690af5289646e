import { describe, expect, it } from 'vitest';
import { wilsonInterval, Z_95 } from './wilson.js';

describe('wilsonInterval', () => {
  // Reference values: Brown, Cai & DasGupta (2001) and R `binom::binom.wilson` / statsmodels
  // `proportion_confint(method="wilson")`.
  it.each([
    [0, 10, 0, 0.2775],
    [1, 10, 0.0179, 0.4042],
    [5, 10, 0.2366, 0.7634],
    [10, 10, 0.7225, 1],
    [20, 20, 0.8389, 1],
    [0, 20, 0, 0.1611],
    [81, 263, 0.2553, 0.3662],
  ])('%i of %i → [%f, %f]', (k, n, low, high) => {
    const w = wilsonInterval(k, n);
    expect(w.low).toBeCloseTo(low, 4);
    expect(w.high).toBeCloseTo(high, 4);
    expect(w.rate).toBe(k / n);
    expect(w.confidence).toBe(0.95);
  });

  it('knows nothing from no trials', () => {
    expect(wilsonInterval(0, 0)).toMatchObject({ low: 0, high: 1 });
  });

  it('is symmetric: k of n mirrors n−k of n', () => {
    const a = wilsonInterval(3, 17);
    const b = wilsonInterval(14, 17);
    expect(a.low).toBeCloseTo(1 - b.high, 12);
    expect(a.high).toBeCloseTo(1 - b.low, 12);
  });

  it('reports the confidence of another z (90 %: z = 1.6449)', () => {
    expect(wilsonInterval(1, 2, 1.6448536).confidence).toBeCloseTo(0.9, 5);
    expect(Z_95).toBeCloseTo(1.96, 2);
  });

  it('rejects impossible counts', () => {
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 2)).toThrow(RangeError);
  });
});
