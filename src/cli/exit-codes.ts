import type { ErrorCode } from '../errors.js';
import type { RunReport, Verdict } from '../report/types.js';
import type { VerifyVerdict } from '../verdict.js';

/**
 * The exit codes of every command, in one table (README, "Exit codes"):
 *
 * | code | meaning |
 * |------|---------|
 * | 0    | every invariant held in every trial; `verify`: fix validated (baseline failed ≥ 1 trial, candidate none) |
 * | 1    | an invariant was violated (the bug reproduced); `verify`: fix not validated (the candidate violated) or not reproduced (the baseline never failed: the scenario cannot judge the fix) |
 * | 2    | usage, scenario or environment error: nothing was judged (`verify`: either side could not run) |
 * | 3    | inconclusive: no violation, but some trial could not be judged (`unknown`); `verify`: no candidate trial could be judged |
 *
 * `verify --mutants --min-mutation-score X` and `mutate --min-mutation-score X` add: 1 when the mutation
 * score is below X (a mutant survived) or the candidate failed the mutants' discovery trial; 3 when unknown
 * mutants could put the score on either side of X, or no mutant could be judged. `verify` combines this
 * with its own verdict: 2 wins, then 1, then 3, then 0 (`exitForVerifyWithMutants`).
 * | 130  | interrupted by SIGINT (143: SIGTERM); the report keeps the finished trials |
 *
 * A run that was interrupted exits 130 whatever it found (its report says what); a run that broke off
 * with an error exits 2 even after judged trials (`docs/verdicts.md`).
 */
export const EXIT = {
  PASS: 0,
  FAIL: 1,
  ERROR: 2,
  UNKNOWN: 3,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/**
 * The table above as data, for `--help` (`help.ts`): one row per code, plain words. The rules behind each
 * code are in `docs/verdicts.md`.
 */
export const EXIT_CODE_TABLE: readonly (readonly [code: string, meaning: string])[] = [
  ['0', 'every invariant held in every trial (verify: fix validated)'],
  [
    '1',
    'an invariant was violated: the bug reproduced (verify: fix not validated, or not reproduced; with --min-mutation-score: the mutation score is below the minimum)',
  ],
  ['2', 'usage, scenario or environment error: nothing was judged'],
  [
    '3',
    'inconclusive: no violation, but some trial could not be judged (unknown; with --min-mutation-score: unknown mutants leave the score on both sides of the minimum)',
  ],
  ['130', 'interrupted by SIGINT (143: SIGTERM); the report keeps the finished trials'],
];

/** A finished `run`'s exit code: interrupted first, then a run error, then the verdict. */
export function exitForRun(
  report: Pick<RunReport, 'aborted' | 'error' | 'verdict'>,
  signal: 'SIGINT' | 'SIGTERM' = 'SIGINT',
): number {
  if (report.aborted) return signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
  if (report.error) return EXIT.ERROR;
  return exitForVerdict(report.verdict);
}

export function exitForVerdict(v: Verdict): number {
  return v === 'pass' ? EXIT.PASS : v === 'fail' ? EXIT.FAIL : EXIT.UNKNOWN;
}

/** Every deliberate error is a usage/scenario/environment problem: nothing was judged. */
export function exitForError(_code: ErrorCode | 'INTERNAL'): number {
  return EXIT.ERROR;
}

/** `verify`'s verdicts, per the table above. */
export function exitForVerify(v: VerifyVerdict): number {
  return v === 'fix validated'
    ? EXIT.PASS
    : v === 'fix not validated' || v === 'not reproduced'
      ? EXIT.FAIL
      : v === 'inconclusive'
        ? EXIT.UNKNOWN
        : EXIT.ERROR;
}

/**
 * `verify`'s exit with `--mutants`: the verdict's code combined with what the mutants add
 * (`VerifyMutation.outcome`): an error (2) wins, then a failure (1), then inconclusive (3), else 0.
 */
export function exitForVerifyWithMutants(v: VerifyVerdict, mutants?: 'pass' | 'fail' | 'unknown'): number {
  const base = exitForVerify(v);
  if (mutants === undefined || base === EXIT.ERROR) return base;
  if (base === EXIT.FAIL || mutants === 'fail') return EXIT.FAIL;
  if (base === EXIT.UNKNOWN || mutants === 'unknown') return EXIT.UNKNOWN;
  return EXIT.PASS;
}
