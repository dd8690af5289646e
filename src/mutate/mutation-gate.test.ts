import { describe, expect, it } from 'vitest';
import { judgeMutationScore } from './mutation-gate.js';
import type { MutantResult } from './mutation-run.js';

const m = (outcome: MutantResult['outcome'], label = `drop-row-lock@${outcome}`) =>
  ({ outcome, label }) as MutantResult;
const r = (mutants: MutantResult[]) => ({
  mutants,
  killed: mutants.filter((x) => x.outcome === 'killed').length,
  survived: mutants.filter((x) => x.outcome === 'survived').length,
  unknown: mutants.filter((x) => x.outcome === 'unknown').length,
});

describe('judgeMutationScore', () => {
  it('passes when every mutant was killed', () => {
    expect(judgeMutationScore(r([m('killed'), m('killed')]), 1).pass).toBe(true);
  });
  it('fails naming the survivors and what a survivor means', () => {
    const g = judgeMutationScore(r([m('killed'), m('survived', 'drop-constraint@x')]), 1);
    expect(g).toMatchObject({ pass: false, exit: 'fail' });
    expect(g.message).toContain('drop-constraint@x');
    expect(g.message).toContain('redundant, or the scenario is too weak');
  });
  it('is unknown when unknown mutants could put the score on either side', () => {
    expect(judgeMutationScore(r([m('killed'), m('unknown')]), 1)).toMatchObject({
      pass: false,
      exit: 'unknown',
    });
  });
  it('does not count an unknown mutant as killed or survived when the gate is decided anyway', () => {
    expect(judgeMutationScore(r([m('killed'), m('unknown')]), 0.5).pass).toBe(true);
    expect(judgeMutationScore(r([m('survived'), m('unknown')]), 0.9)).toMatchObject({ exit: 'fail' });
  });
  it('is unknown with no mutation point', () => {
    expect(judgeMutationScore(r([]), 0.5)).toMatchObject({ pass: false, exit: 'unknown' });
  });
});
