/**
 * How often could a candidate still fail, given it failed in none of `n` independent trials?
 *
 * - Exact one-sided bound: the largest failure probability p with (1 − p)^n ≥ α, i.e.
 *   p = 1 − α^(1/n) (α = 0.05 for 95 %). This is the Clopper–Pearson upper bound at k = 0.
 * - Rule of three: ≈ 3/n, since −ln 0.05 ≈ 3 (Hanley & Lippman-Hand, "If nothing goes wrong, is
 *   everything all right?", JAMA 249 (1983)). Slightly conservative; quoted because people know it.
 *
 * Both assume trials are independent and alike: a flaky environment or a race that needs rare timing
 * makes the true rate unknowable from trials alone. They bound the rate *under this scenario's load*.
 */
export interface FailureBound {
  /** Trials in which the candidate was judged (passed); unknown trials do not count. */
  trials: number;
  /** 3 / n, capped at 1 (1 when n = 0). */
  ruleOfThree: number;
  /** 1 − 0.05^(1/n) (1 when n = 0). */
  exact95: number;
}

/** Upper 95 % bounds on the failure rate after `n` trials without a failure. */
export function zeroFailureBound(n: number, alpha = 0.05): FailureBound {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`zeroFailureBound: n must be a whole number ≥ 0, got ${n}`);
  if (n === 0) return { trials: 0, ruleOfThree: 1, exact95: 1 };
  return { trials: n, ruleOfThree: Math.min(1, 3 / n), exact95: 1 - alpha ** (1 / n) };
}

/**
 * The fewest clean trials whose exact bound (`zeroFailureBound`) is below `rate`: the smallest n with
 * 1 − α^(1/n) < rate, i.e. n > ln α / ln(1 − rate). 59 for a 5 % bound at 95 % (1 − 0.05^(1/59) = 4.95 %;
 * 58 give 5.03 %); 299 for 1 %.
 */
export function trialsForBound(rate = 0.05, alpha = 0.05): number {
  if (!(rate > 0 && rate < 1)) throw new RangeError(`trialsForBound: rate must be in (0, 1), got ${rate}`);
  let n = Math.max(1, Math.floor(Math.log(alpha) / Math.log(1 - rate)));
  while (zeroFailureBound(n, alpha).exact95 >= rate) n++;
  return n;
}
