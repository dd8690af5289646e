import { describe, expect, it } from 'vitest';
import { fixtureMutationReport } from '../mutate/mutation-fixture.js';
import { judgeMutationScore } from '../mutate/mutation-gate.js';
import { renderVerifyMarkdown } from '../report/markdown-verify.js';
import { zeroFailureBound } from '../stats/failure-bound.js';
import type { VerifyReport, VerifySide } from '../verify.js';
import { renderVerifySummary } from './verify.js';

const side = (role: 'baseline' | 'candidate', failed: number, trials: number): VerifySide => ({
  role,
  spec: role === 'baseline' ? 'buggy' : 'fixed',
  kind: 'variant',
  variant: role === 'baseline' ? 'buggy' : 'fixed',
  runDir: `/r/${role}`,
  reportFile: `/r/${role}/report.json`,
  verdict: failed ? 'fail' : 'pass',
  trials,
  passed: trials - failed,
  failed,
  unknown: 0,
  abortedTrials: 0,
  failureRate: { rate: failed / Math.max(1, trials), low: 0, high: 1, confidence: 0.95 },
  violated: {},
  aborted: false,
});

function report(trials: number): VerifyReport {
  return {
    schemaVersion: 1,
    kind: 'verify',
    tool: { name: 'whatbreaks', version: '0', node: 'v20' },
    scenario: { name: 's', file: '/s.yaml' },
    startedAt: '2026-11-28T00:00:00Z',
    durationMs: 1,
    trialsRequested: trials,
    verdict: 'fix validated',
    explanation: 'validated',
    baseline: side('baseline', trials, trials),
    candidate: { ...side('candidate', 0, trials), failureBound: zeroFailureBound(trials) },
    order: [],
    aborted: false,
  };
}

describe('verify summary', () => {
  it('says how many clean trials a bound below 5 % needs when it validated with fewer', () => {
    expect(renderVerifySummary(report(2), false)).toContain(
      'a bound below 5% needs 59 candidate trials without a failure (this run: 2); run with --trials 59',
    );
    expect(renderVerifySummary(report(59), false)).not.toContain('needs 59');
  });

  it('prints no rate for a side with no trial', () => {
    const r = report(2);
    r.baseline = { ...r.baseline, trials: 0, passed: 0, failed: 0 };
    expect(renderVerifySummary(r, false)).toContain('baseline  buggy: no trial ran');
  });

  it('with --mutants: each mutant, the score and the gate in the terminal and in verify.md', () => {
    const r = report(2);
    const mr = fixtureMutationReport();
    const gate = judgeMutationScore(mr, 1);
    r.mutants = {
      outDir: '/r/mutants',
      minScore: 1,
      report: mr,
      gate,
      outcome: 'unknown',
      message: gate.message,
    };
    const text = renderVerifySummary(r, false);
    expect(text).toContain('mutants of the candidate:');
    expect(text).toContain('SURVIVED drop-update-predicate@UPDATE jobs');
    expect(text).toContain('mutation score 1/2 (50%): 1 killed, 1 survived, 1 unknown (not counted)');
    expect(text).toContain('mutation score 1/2 is below the minimum 100%');
    expect(text).toContain('mutants: /r/mutants/mutation.md');
    const md = renderVerifyMarkdown(r);
    expect(md).toContain('### Mutants of the candidate');
    expect(md).toContain('| mutant | clause removed | seen | outcome |');
    expect(md).toContain(
      '#### drop-row-lock@SELECT status FROM jobs WHERE id = $1 FOR UPDATE: killed in schedule `0.1.1.1.1.0.0.0` (trial 1)',
    );
    expect(md).toContain('A survivor means the scenario cannot tell this protection matters');
    expect(md).toContain('⚠️ mutation score 1/2 is below the minimum 100%');
  });

  it('with --mutants and a candidate that did not pass: says no mutant ran and why', () => {
    const r = report(2);
    r.mutants = {
      outDir: '/r/mutants',
      notRun: 'the candidate failed',
      outcome: 'pass',
      message: 'no mutant was run: the candidate failed',
    };
    expect(renderVerifySummary(r, false)).toContain('no mutant was run: the candidate failed');
    const md = renderVerifyMarkdown(r);
    expect(md).toContain('no mutant was run: the candidate failed');
    expect(md).not.toContain('mutation.md');
  });
});
