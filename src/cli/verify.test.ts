import { describe, expect, it } from 'vitest';
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
});
