/**
 * The retry wrapper around the payment call — the code the thundering-herd scenario is about.
 *
 * - `exponential` (the buggy variant): sleep `base·2^n` before retry n+1, no jitter. Every caller that
 *   failed at the same instant retries at the same instants: +1 s, +3 s, +7 s, +15 s after the failure
 *   (base 1 s) — synchronized waves against a dependency that is trying to come back.
 * - `full-jitter` (the fixed variant): sleep `random(0, min(cap, base·2^n))` and give up after a few
 *   retries (Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015: "full jitter"
 *   spreads the retries of callers that failed together over the whole backoff window).
 *
 * Times in milliseconds.
 */
export interface RetryPolicy {
  kind: 'exponential' | 'full-jitter';
  /** Backoff before the first retry (`base·2^0`), ms. */
  baseMs: number;
  /** Longest backoff, ms (`full-jitter` only; `exponential` has none, as the buggy code had). */
  capMs: number;
  /** Retries after the first attempt; the call is then given up. */
  maxRetries: number;
}

/** Backoff before retry number `retry` (1-based), ms. */
export function backoffMs(p: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exp = p.baseMs * 2 ** (retry - 1);
  if (p.kind === 'exponential') return exp;
  return random() * Math.min(p.capMs, exp);
}

export interface AttemptResult<T> {
  /** Give up retrying (success, or a failure retrying cannot fix). */
  done: boolean;
  value: T;
}

/**
 * Call `attempt(n)` (n = 1, 2, …) until it reports `done` or the retries are spent; returns the last
 * value and how many attempts were made.
 */
export async function withRetries<T>(
  p: RetryPolicy,
  attempt: (n: number) => Promise<AttemptResult<T>>,
): Promise<{ value: T; attempts: number }> {
  for (let n = 1; ; n++) {
    const r = await attempt(n);
    if (r.done || n > p.maxRetries) return { value: r.value, attempts: n };
    await new Promise((resolve) => setTimeout(resolve, backoffMs(p, n)));
  }
}
