import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Scenario } from '../scenario/types.js';
import { verifyMutants } from './verify-mutants.js';

/**
 * The cases where no mutant may run. The scenario is never started: an empty object stands in for it,
 * so a run that started anyway would throw (the real runs are in test/verify-mutants.test.ts).
 */
const scenario = {} as Scenario;

describe('verify --mutants without a passing candidate', () => {
  it('runs no mutant for a failing or unknown candidate, and says so', async () => {
    for (const verdict of ['fail', 'unknown'] as const) {
      const outDir = join(mkdtempSync(join(tmpdir(), 'whatbreaks-vm-')), 'mutants');
      const m = await verifyMutants({
        scenario,
        variant: 'fixed',
        candidate: { verdict, passed: verdict === 'fail' ? 1 : 0, aborted: false },
        outDir,
      });
      expect(m.report).toBeUndefined();
      expect(m.notRun).toContain(`the candidate (fixed) did not pass verify's trials (${verdict})`);
      expect(m.message).toContain('has no mutants to judge');
      expect(m.outcome).toBe('pass'); // verify's own verdict already fails or is inconclusive
      expect(existsSync(outDir)).toBe(false);
    }
  });

  it('a minimum that was asked for and could not be checked is never a pass', async () => {
    const m = await verifyMutants({
      scenario,
      variant: 'fixed',
      candidate: {
        verdict: 'pass',
        passed: 2,
        aborted: false,
        error: { code: 'TARGET_FAILED', message: 'x' },
      },
      outDir: '/nonexistent/mutants',
      minScore: 0.5,
    });
    expect(m).toMatchObject({ outcome: 'unknown', minScore: 0.5 });
    expect(m.notRun).toContain('error TARGET_FAILED');
  });
});
