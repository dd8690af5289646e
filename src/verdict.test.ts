import { describe, expect, it } from 'vitest';
import { EXIT, exitForRun, exitForVerify } from './cli/exit-codes.js';
import type { ExplorationSummary } from './interleave/explorer.js';
import type { InvariantResult } from './invariants/types.js';
import type { TrialVerdict } from './report/types.js';
import { wilsonInterval } from './stats/wilson.js';
import {
  judgeRun,
  judgeScheduleVerify,
  judgeTrial,
  judgeVerify,
  summarizeTrials,
  type TrialFacts,
  type VerifySideCounts,
} from './verdict.js';

/**
 * One test per row of docs/verdicts.md (the row's id is in the test name). Each fails when its rule is
 * removed from `verdict.ts`.
 */

const inv = (holds: InvariantResult['holds'], name = 'inv'): InvariantResult => ({
  name,
  type: 'responses',
  holds,
  summary: holds === true ? 'as expected' : holds === false ? '0× 2xx, expected exactly 1' : 'cannot tell',
  witnesses: [],
  witnessCount: 0,
});
const facts = (f: Partial<TrialFacts>): TrialFacts => ({ weaker: [], invariants: [inv(true)], ...f });

describe('trial verdicts (docs/verdicts.md, T-rows)', () => {
  it('T1: interrupted while the trial ran → aborted, whatever the invariants say', () => {
    for (const invariants of [[inv(true)], [inv(false)], []]) {
      const j = judgeTrial(facts({ interrupted: 'interrupted while the trial ran', invariants }));
      expect(j).toEqual({ verdict: 'aborted', reason: 'interrupted while the trial ran' });
    }
  });

  it('T2: the load failed → unknown with its reason, even when an invariant says violated', () => {
    const reason = 'the load failed: WARMUP_NOT_KEEPALIVE (hint: …)';
    expect(judgeTrial(facts({ loadFailed: reason, invariants: [inv(false)] }))).toEqual({
      verdict: 'unknown',
      reason,
    });
    expect(judgeTrial(facts({ loadFailed: reason, invariants: [] }))).toEqual({ verdict: 'unknown', reason });
  });

  it('T3: an invariant violated → fail (target-survives is an invariant like any other)', () => {
    expect(judgeTrial(facts({ invariants: [inv(true), inv(false)] })).verdict).toBe('fail');
    expect(judgeTrial(facts({ invariants: [inv(false, 'target-survives')] })).verdict).toBe('fail');
  });

  it('T4: an invariant undecided and none violated → unknown, naming it', () => {
    const j = judgeTrial(facts({ invariants: [inv(true), inv('unknown', 'herd')] }));
    expect(j.verdict).toBe('unknown');
    expect(j.reason).toContain('herd: cannot tell');
    // A violation outranks an undecided invariant.
    expect(judgeTrial(facts({ invariants: [inv('unknown'), inv(false)] })).verdict).toBe('fail');
  });

  it('T5: weaker than written (loose burst, fault not applied) → a pass becomes unknown', () => {
    const j = judgeTrial(facts({ weaker: ['send spread 9.1 ms is looser than maxSpreadMs 2 ms'] }));
    expect(j).toEqual({ verdict: 'unknown', reason: 'send spread 9.1 ms is looser than maxSpreadMs 2 ms' });
  });

  it('T6: weaker than written, but a violation seen → fail', () => {
    const j = judgeTrial(facts({ weaker: ['fault toxic at 0 ms failed'], invariants: [inv(false)] }));
    expect(j.verdict).toBe('fail');
  });

  it('T7: every invariant holds and the trial ran as written → pass', () => {
    expect(judgeTrial(facts({}))).toEqual({ verdict: 'pass' });
  });
});

describe('run verdicts (docs/verdicts.md, R-rows)', () => {
  const run = (vs: TrialVerdict[], r: { error?: boolean; aborted?: boolean } = {}) => judgeRun(vs, r);

  it('R1: any failed trial → fail, also in a run that broke off or was interrupted afterwards', () => {
    expect(run(['pass', 'fail', 'unknown'])).toBe('fail');
    expect(run(['fail'], { error: true })).toBe('fail');
    expect(run(['fail', 'aborted'], { aborted: true })).toBe('fail');
  });

  it('R2: no failure, some trial unknown → unknown', () => {
    expect(run(['pass', 'unknown', 'pass'])).toBe('unknown');
  });

  it('R3: every trial passed → pass', () => {
    expect(run(['pass', 'pass'])).toBe('pass');
  });

  it('R4: no trial counted (none ran, or all aborted) → unknown', () => {
    expect(run([])).toBe('unknown');
    expect(run(['aborted'])).toBe('unknown');
  });

  it('R5: passing trials, then an error or an interruption → unknown', () => {
    expect(run(['pass'], { error: true })).toBe('unknown');
    expect(run(['pass', 'aborted'], { aborted: true })).toBe('unknown');
  });

  it('R6: aborted trials are counted neither passed nor failed, nor in the reproduction rate', () => {
    expect(summarizeTrials(['fail', 'pass', 'aborted', 'unknown'])).toEqual({
      trials: 4,
      passed: 1,
      failed: 1,
      unknown: 1,
      aborted: 1,
      reproductionRate: 1 / 3,
    });
  });

  it('R7: an unknown trial is not a reproduction: it stays in the reproduction rate denominator', () => {
    expect(summarizeTrials(['fail', 'unknown']).reproductionRate).toBe(0.5);
  });

  it('R8: exit codes — interrupted 130/143, error 2, fail 1, unknown 3, pass 0', () => {
    expect(exitForRun({ aborted: true, verdict: 'fail' })).toBe(EXIT.SIGINT);
    expect(exitForRun({ aborted: true, verdict: 'pass' }, 'SIGTERM')).toBe(EXIT.SIGTERM);
    expect(
      exitForRun({ aborted: false, error: { code: 'TARGET_FAILED', message: 'x' }, verdict: 'fail' }),
    ).toBe(EXIT.ERROR);
    expect(exitForRun({ aborted: false, verdict: 'fail' })).toBe(1);
    expect(exitForRun({ aborted: false, verdict: 'unknown' })).toBe(3);
    expect(exitForRun({ aborted: false, verdict: 'pass' })).toBe(0);
  });
});

describe('verify verdicts (docs/verdicts.md, V-rows)', () => {
  const side = (role: 'baseline' | 'candidate', v: TrialVerdict[]): VerifySideCounts => {
    const s = summarizeTrials(v);
    return {
      role,
      spec: role === 'baseline' ? 'buggy' : 'fixed',
      trials: s.trials,
      passed: s.passed,
      failed: s.failed,
      unknown: s.unknown,
      abortedTrials: s.aborted,
      violated: s.failed ? { 'one-winner': s.failed } : {},
      failureRate: wilsonInterval(s.failed, s.trials - s.aborted),
    };
  };
  const N = 5;
  const five = (v: TrialVerdict): TrialVerdict[] => Array.from({ length: N }, () => v);

  it('V1: either side could not run → error (exit 2)', () => {
    const b = {
      ...side('baseline', five('fail')),
      error: { code: 'TARGET_UNHEALTHY', message: 'no /health' },
    };
    const j = judgeVerify(b, side('candidate', five('pass')), N);
    expect(j.verdict).toBe('error');
    expect(exitForVerify(j.verdict)).toBe(EXIT.ERROR);
  });

  it('V2: the candidate violated in one trial → fix not validated (exit 1)', () => {
    const j = judgeVerify(
      side('baseline', five('fail')),
      side('candidate', ['pass', 'pass', 'fail', 'pass', 'pass']),
      N,
    );
    expect(j.verdict).toBe('fix not validated');
    expect(j.explanation).toContain('one-winner in 1');
    expect(exitForVerify(j.verdict)).toBe(1);
  });

  it('V3: no baseline trial judged (all unknown or aborted) → inconclusive (exit 3), not "not reproduced"', () => {
    const j = judgeVerify(
      side('baseline', ['unknown', 'unknown', 'aborted']),
      side('candidate', five('pass')),
      N,
    );
    expect(j.verdict).toBe('inconclusive');
    expect(exitForVerify(j.verdict)).toBe(EXIT.UNKNOWN);
  });

  it('V4: the baseline never violated in its judged trials → not reproduced (exit 1); unknowns are no reproduction', () => {
    const j = judgeVerify(side('baseline', ['pass', 'unknown', 'pass']), side('candidate', five('pass')), N);
    expect(j.verdict).toBe('not reproduced');
    expect(j.explanation).toContain('1 unknown');
    expect(exitForVerify(j.verdict)).toBe(1);
  });

  it('V5: a candidate trial unknown or aborted → inconclusive (exit 3): validation needs all N judged', () => {
    for (const odd of ['unknown', 'aborted'] as const) {
      const j = judgeVerify(
        side('baseline', five('fail')),
        side('candidate', ['pass', 'pass', odd, 'pass', 'pass']),
        N,
      );
      expect(j.verdict).toBe('inconclusive');
      expect(j.explanation).toContain(`only 4 of its ${N} trials were judged`);
    }
    // Fewer trials recorded than asked (interrupted before the last ones): inconclusive too.
    expect(judgeVerify(side('baseline', five('fail')), side('candidate', ['pass', 'pass']), N).verdict).toBe(
      'inconclusive',
    );
  });

  it('V6: the baseline violated, the candidate passed all N → fix validated (exit 0), bound from N passed trials', () => {
    const j = judgeVerify(
      side('baseline', ['fail', 'pass', 'fail', 'unknown', 'fail']),
      side('candidate', five('pass')),
      N,
    );
    expect(j.verdict).toBe('fix validated');
    expect(exitForVerify(j.verdict)).toBe(0);
    expect(j.bound.trials).toBe(N);
    expect(j.bound.exact95).toBeCloseTo(1 - 0.05 ** (1 / N), 10);
  });

  it('V7: the bound counts passed trials only, never unknown or aborted ones', () => {
    const c = side('candidate', ['pass', 'unknown', 'aborted', 'pass']);
    expect(judgeVerify(side('baseline', five('fail')), c, 4).bound.trials).toBe(2);
  });

  describe('interleave scenarios (S-rows: schedules, not rates)', () => {
    const x = (o: Partial<ExplorationSummary> = {}): ExplorationSummary => ({
      exhaustive: true,
      searched: 5,
      sampled: 0,
      pinned: false,
      preemptionBound: 2,
      ...o,
    });
    const failingB = { exploration: x(), failing: '0.1.1.0' };

    it('S1: exhaustive search, every candidate schedule passed → fix validated, "holds under all N schedules (exhaustive)"', () => {
      const j = judgeScheduleVerify(
        side('baseline', five('fail')),
        side('candidate', five('pass')),
        failingB,
        {
          exploration: x(),
        },
      );
      expect(j.verdict).toBe('fix validated');
      expect(j.explanation).toMatch(/holds under all 5 schedules \(exhaustive, ≤ 2 preemptions\)/);
    });

    it('S2: a candidate schedule that did not run as written → inconclusive, never validated', () => {
      const j = judgeScheduleVerify(
        side('baseline', five('fail')),
        side('candidate', ['pass', 'pass', 'unknown', 'pass', 'pass']),
        failingB,
        { exploration: x() },
      );
      expect(j.verdict).toBe('inconclusive');
    });

    it('S3: a failing candidate schedule → fix not validated, with the schedule to replay', () => {
      const j = judgeScheduleVerify(
        side('baseline', five('fail')),
        side('candidate', ['pass', 'fail', 'pass', 'pass', 'pass']),
        failingB,
        { exploration: x(), failing: '0.1.0.1' },
      );
      expect(j.verdict).toBe('fix not validated');
      expect(j.explanation).toMatch(/--schedule 0\.1\.0\.1/);
    });

    it('S4: a search cut at maxSchedules says it is not exhaustive', () => {
      const j = judgeScheduleVerify(
        side('baseline', five('fail')),
        side('candidate', five('pass')),
        failingB,
        {
          exploration: x({ exhaustive: false }),
        },
      );
      expect(j.explanation).toMatch(/not exhaustive/);
    });
  });
});
