import { describe, expect, it } from 'vitest';
import { trialsForBound, zeroFailureBound } from './failure-bound.js';

describe('zeroFailureBound', () => {
  it('20 clean trials: rule of three 15 %, exact 13.9 %', () => {
    const b = zeroFailureBound(20);
    expect(b.ruleOfThree).toBeCloseTo(0.15, 10);
    expect(b.exact95).toBeCloseTo(0.13911, 5);
  });

  it('the exact bound is the p at which n clean trials have probability 5 %', () => {
    for (const n of [1, 3, 10, 59, 300]) {
      const { exact95 } = zeroFailureBound(n);
      expect((1 - exact95) ** n).toBeCloseTo(0.05, 10);
    }
  });

  it('3/n is a slight over-estimate of the exact bound', () => {
    for (const n of [20, 100, 1000]) {
      const b = zeroFailureBound(n);
      expect(b.ruleOfThree).toBeGreaterThan(b.exact95);
      expect(b.ruleOfThree / b.exact95).toBeLessThan(1.2);
    }
  });

  it('no trials bound nothing; one trial caps rule of three at 1', () => {
    expect(zeroFailureBound(0)).toEqual({ trials: 0, ruleOfThree: 1, exact95: 1 });
    expect(zeroFailureBound(1).ruleOfThree).toBe(1);
    expect(zeroFailureBound(1).exact95).toBeCloseTo(0.95, 10);
  });

  it('a 5 % bound needs 59 clean trials (58 give 5.03 %); 1 % needs 299', () => {
    expect(trialsForBound(0.05)).toBe(59);
    expect(zeroFailureBound(59).exact95).toBeLessThan(0.05);
    expect(zeroFailureBound(58).exact95).toBeGreaterThan(0.05);
    expect(trialsForBound(0.01)).toBe(299);
    for (const rate of [0.2, 0.1, 0.03, 0.005]) {
      const n = trialsForBound(rate);
      expect(zeroFailureBound(n).exact95).toBeLessThan(rate);
      expect(zeroFailureBound(n - 1).exact95).toBeGreaterThanOrEqual(rate);
    }
  });
});
