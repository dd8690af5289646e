import { describe, expect, it } from 'vitest';
import { EXIT, exitForVerifyWithMutants } from './exit-codes.js';

describe('verify --mutants exit code', () => {
  it('without mutants is the verdict alone', () => {
    expect(exitForVerifyWithMutants('fix validated')).toBe(EXIT.PASS);
    expect(exitForVerifyWithMutants('inconclusive')).toBe(EXIT.UNKNOWN);
  });

  it('a validated fix exits 1 when the mutation gate fails, 3 when it is undecided', () => {
    expect(exitForVerifyWithMutants('fix validated', 'pass')).toBe(EXIT.PASS);
    expect(exitForVerifyWithMutants('fix validated', 'fail')).toBe(EXIT.FAIL);
    expect(exitForVerifyWithMutants('fix validated', 'unknown')).toBe(EXIT.UNKNOWN);
  });

  it('an error wins, then a failure, then inconclusive', () => {
    expect(exitForVerifyWithMutants('error', 'fail')).toBe(EXIT.ERROR);
    expect(exitForVerifyWithMutants('inconclusive', 'fail')).toBe(EXIT.FAIL);
    expect(exitForVerifyWithMutants('not reproduced', 'unknown')).toBe(EXIT.FAIL);
    expect(exitForVerifyWithMutants('fix not validated', 'pass')).toBe(EXIT.FAIL);
    expect(exitForVerifyWithMutants('inconclusive', 'pass')).toBe(EXIT.UNKNOWN);
  });
});
