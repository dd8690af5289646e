import type { ExplorationSummary } from './interleave/explorer.js';
import { combine, type Holds, type InvariantResult } from './invariants/types.js';
import type { TrialVerdict, Verdict } from './report/types.js';
import { type FailureBound, zeroFailureBound } from './stats/failure-bound.js';

/**
 * The verdict rules, in one place: a trial's verdict from what happened in it, a run's verdict from its
 * trials, and `verify`'s verdict from its two sides. `docs/verdicts.md` is the same table for people;
 * `verdict.test.ts` has one test per row. Nothing else in whatbreaks decides pass, fail or unknown.
 *
 * The principle (Jepsen's, plus one): a violation seen is a finding (`fail`); a pass needs the trial to
 * have run as the scenario wrote it; a trial that did not run as written is `unknown` with the reason,
 * never `pass` and never `fail`; an interrupted trial is `aborted` and counts for nothing.
 */

/** What happened in one trial, as `run.ts` observed it. */
export interface TrialFacts {
  /**
   * Set when the run was interrupted (SIGINT, SIGTERM, `verify` stopping a side) while this trial ran:
   * the load was cut short on purpose. The reason, e.g. `interrupted during the load`.
   */
  interrupted?: string;
  /**
   * Set when the load did not run as written: the executor failed (a protocol the target does not speak,
   * connections refused, a burst that could not be prepared) or did not start. The reason, with a hint.
   */
  loadFailed?: string;
  /**
   * Ways the trial ran weaker than the scenario asked, though it ran: a burst looser than `maxSpreadMs`, a
   * fault that failed or never fired. A violation seen under weaker conditions is still a violation; a
   * pass under them proves nothing.
   */
  weaker: readonly string[];
  /** The scenario's invariants, checked (empty when the trial was interrupted or its load failed). */
  invariants: readonly InvariantResult[];
}

export interface TrialJudgement {
  verdict: TrialVerdict;
  /** Why the trial is `unknown` or `aborted` (absent for pass and fail). */
  reason?: string;
}

/**
 * A trial's verdict. In this order:
 * 1. interrupted → `aborted` (counted neither passed nor failed);
 * 2. the load failed → `unknown`, whatever the invariants say (they are not even checked);
 * 3. an invariant violated (including `target-survives`) → `fail`;
 * 4. an invariant undecided → `unknown`;
 * 5. weaker than written → `unknown`;
 * 6. otherwise `pass`.
 */
export function judgeTrial(f: TrialFacts): TrialJudgement {
  if (f.interrupted) return { verdict: 'aborted', reason: f.interrupted };
  if (f.loadFailed) return { verdict: 'unknown', reason: f.loadFailed };
  const holds = combine(f.invariants.map((i) => i.holds));
  if (holds === false) return { verdict: 'fail' };
  const reasons = [
    ...f.invariants.filter((i) => i.holds === 'unknown').map((i) => `${i.name}: ${i.summary}`),
    ...f.weaker,
  ];
  if (holds === 'unknown' || reasons.length > 0) {
    return { verdict: 'unknown', reason: reasons.join('; ') || 'an invariant could not be decided' };
  }
  return { verdict: 'pass' };
}

/** A run's trial counts. `reproductionRate` = failed / (trials − aborted): an unknown trial is not a reproduction. */
export interface RunSummary {
  /** Trials started and recorded, aborted ones included. */
  trials: number;
  passed: number;
  failed: number;
  unknown: number;
  aborted: number;
  reproductionRate: number;
}

export function summarizeTrials(verdicts: readonly TrialVerdict[]): RunSummary {
  const count = (v: TrialVerdict) => verdicts.filter((x) => x === v).length;
  const aborted = count('aborted');
  const failed = count('fail');
  const counted = verdicts.length - aborted;
  return {
    trials: verdicts.length,
    passed: count('pass'),
    failed,
    unknown: count('unknown'),
    aborted,
    reproductionRate: counted > 0 ? failed / counted : 0,
  };
}

/**
 * A run's verdict from its trials: any `fail` → `fail` (a violation seen stays seen, even in a run that
 * broke off or was interrupted afterwards); else `pass` only when at least one trial ran, every trial that
 * counts passed, and the run neither broke off (`error`) nor was interrupted; else `unknown`.
 */
export function judgeRun(
  verdicts: readonly TrialVerdict[],
  run: { error?: boolean; aborted?: boolean } = {},
): Verdict {
  const counted = verdicts.filter((v) => v !== 'aborted');
  const holds: Holds = combine(
    counted.map((v): Holds => (v === 'pass' ? true : v === 'fail' ? false : 'unknown')),
  );
  if (holds === false) return 'fail';
  if (holds === true && counted.length > 0 && !run.error && !run.aborted) return 'pass';
  return 'unknown';
}

export type VerifyVerdict =
  | 'fix validated'
  | 'fix not validated'
  | 'not reproduced'
  | 'inconclusive'
  | 'error';

/** One side of a `verify`, as far as the verdict needs it. */
export interface VerifySideCounts {
  role: 'baseline' | 'candidate';
  /** As given: a variant name or a folder. */
  spec: string;
  /** Trials recorded, aborted ones included. */
  trials: number;
  passed: number;
  failed: number;
  unknown: number;
  /** Trials interrupted while they ran. */
  abortedTrials: number;
  /** Invariant name → trials in which it was violated. */
  violated: Readonly<Record<string, number>>;
  /** Wilson interval on failed / (trials − abortedTrials). */
  failureRate: { rate: number; low: number; high: number };
  error?: { code: string; message: string; hint?: string };
}

/**
 * `verify`'s verdict. In this order:
 * 1. either side could not run (`error`) → `error` (exit 2);
 * 2. the candidate violated in ≥ 1 trial → `fix not validated` (exit 1);
 * 3. no baseline trial could be judged (all unknown or aborted) → `inconclusive` (exit 3);
 * 4. the baseline never violated in its judged trials → `not reproduced` (exit 1);
 * 5. fewer than `trialsRequested` candidate trials were judged (some unknown or aborted) → `inconclusive`
 *    (exit 3): a validation needs every one of the candidate's N trials judged;
 * 6. otherwise `fix validated` (exit 0), with the candidate's failure-rate bound from its N passed trials.
 * Unknown and aborted trials are never a reproduction and never a candidate pass.
 */
export function judgeVerify(
  b: VerifySideCounts,
  c: VerifySideCounts,
  trialsRequested: number,
): { verdict: VerifyVerdict; explanation: string; bound: FailureBound } {
  const bound = zeroFailureBound(c.failed === 0 ? c.passed : 0);
  const rate = (s: VerifySideCounts) =>
    `${s.failed}/${s.trials - s.abortedTrials} trials (${pct(s.failureRate.rate)}, 95 % CI ${pct(s.failureRate.low)}–${pct(s.failureRate.high)})`;
  const unjudged = (s: VerifySideCounts) =>
    [s.unknown ? `${s.unknown} unknown` : '', s.abortedTrials ? `${s.abortedTrials} aborted` : '']
      .filter(Boolean)
      .join(', ');
  if (b.error || c.error) {
    const s = b.error ? b : c;
    return {
      verdict: 'error',
      bound,
      explanation: `The ${s.role} (${s.spec}) could not run: [${s.error?.code}] ${s.error?.message.split('\n')[0]}. Nothing was judged.`,
    };
  }
  if (c.failed > 0) {
    return {
      verdict: 'fix not validated',
      bound,
      explanation: `The candidate (${c.spec}) still violates: ${Object.entries(c.violated)
        .map(([n, k]) => `${n} in ${k}`)
        .join(', ')} of ${c.trials - c.abortedTrials} trials; failure rate ${rate(c)}.`,
    };
  }
  if (b.passed + b.failed === 0) {
    return {
      verdict: 'inconclusive',
      bound,
      explanation: `No baseline (${b.spec}) trial could be judged (${unjudged(b) || 'none ran'}): whether the scenario reproduces the failure is unknown, so it cannot judge the fix.`,
    };
  }
  if (b.failed === 0) {
    return {
      verdict: 'not reproduced',
      bound,
      explanation: `The baseline (${b.spec}) never violated an invariant in ${b.passed} judged trials${unjudged(b) ? ` (${unjudged(b)})` : ''}: this scenario did not reproduce the failure, so it cannot judge the fix. Run more trials or tighten the scenario.`,
    };
  }
  if (c.passed < trialsRequested) {
    return {
      verdict: 'inconclusive',
      bound,
      explanation: `The candidate (${c.spec}) violated nothing, but only ${c.passed} of its ${trialsRequested} trials were judged${unjudged(c) ? ` (${unjudged(c)})` : ''}: a validation needs all ${trialsRequested}. See why in candidate/report.json.`,
    };
  }
  return {
    verdict: 'fix validated',
    bound,
    explanation:
      `The baseline (${b.spec}) failed in ${rate(b)}; the candidate (${c.spec}) in none of ${c.passed} judged trials: ` +
      `its failure rate under this scenario is below ${pct(bound.exact95)} (95 %, exact; rule of three ${pct(bound.ruleOfThree)}).`,
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %`;
}

/** What an `interleave` side explored, for `judgeScheduleVerify`. */
export interface ScheduleSideFacts {
  exploration: ExplorationSummary;
  /** The first failing schedule (shortest, fewest preemptions first), if any. */
  failing?: string;
}

/**
 * `verify` for an `interleave` scenario: a proof-shaped verdict instead of a rate. Errors, a baseline
 * that never failed or could not be judged, and a failing candidate are judged as `judgeVerify` does;
 * then a candidate with any schedule that did not run as written is `inconclusive` (an unknown schedule
 * is never a pass); else `fix validated`, saying whether the search was exhaustive within the bound.
 */
export function judgeScheduleVerify(
  b: VerifySideCounts,
  c: VerifySideCounts,
  bs: ScheduleSideFacts,
  cs: ScheduleSideFacts,
): { verdict: VerifyVerdict; explanation: string } {
  const base = judgeVerify(b, c, c.trials);
  const n = (k: number) => `${k} schedule${k === 1 ? '' : 's'}`;
  if (base.verdict === 'error' || base.verdict === 'not reproduced') return base;
  if (c.failed > 0) {
    return {
      verdict: 'fix not validated',
      explanation: `The candidate (${c.spec}) fails under ${n(c.failed)} of ${c.trials}${cs.failing ? `, e.g. ${cs.failing} (replay: whatbreaks replay <candidate run> --schedule ${cs.failing})` : ''}.`,
    };
  }
  if (base.verdict === 'inconclusive' && b.passed + b.failed === 0) return base;
  const judged = c.trials - c.abortedTrials;
  if (c.unknown > 0 || c.abortedTrials > 0 || judged === 0) {
    return {
      verdict: 'inconclusive',
      explanation: `The candidate (${c.spec}) failed under no schedule, but ${c.unknown + c.abortedTrials} of its ${n(c.trials)} did not run as written: see why in candidate/report.json.`,
    };
  }
  const x = cs.exploration;
  const how = x.pinned
    ? `the pinned schedule, ${c.passed} time${c.passed === 1 ? '' : 's'}`
    : x.exhaustive
      ? `all ${n(c.passed)} (exhaustive, ≤ ${x.preemptionBound} preemptions${x.sampled ? `, plus ${x.sampled} PCT samples` : ''})`
      : `all ${n(c.passed)} run (the search stopped at maxSchedules: not exhaustive, ≤ ${x.preemptionBound} preemptions)`;
  return {
    verdict: 'fix validated',
    explanation: `The candidate (${c.spec}) holds under ${how}; the baseline (${b.spec}) failed under ${b.failed} of its ${n(b.trials)}${bs.failing ? ` (e.g. ${bs.failing})` : ''}.`,
  };
}
