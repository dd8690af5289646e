import type { ErrorCode } from '../errors.js';
import type { Verdict } from '../report/types.js';

/**
 * The exit codes of every command, in one table (README, "Exit codes"):
 *
 * | code | meaning |
 * |------|---------|
 * | 0    | every invariant held in every trial |
 * | 1    | an invariant was violated (the bug reproduced), or `verify` did not validate the fix |
 * | 2    | usage, scenario or environment error: nothing was judged |
 * | 3    | inconclusive: no violation, but some trial could not be judged (`unknown`) |
 * | 130  | interrupted by SIGINT (143: SIGTERM); the report keeps the finished trials |
 */
export const EXIT = {
  PASS: 0,
  FAIL: 1,
  ERROR: 2,
  UNKNOWN: 3,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export function exitForVerdict(v: Verdict): number {
  return v === 'pass' ? EXIT.PASS : v === 'fail' ? EXIT.FAIL : EXIT.UNKNOWN;
}

/** Every deliberate error is a usage/scenario/environment problem: nothing was judged. */
export function exitForError(_code: ErrorCode | 'INTERNAL'): number {
  return EXIT.ERROR;
}
