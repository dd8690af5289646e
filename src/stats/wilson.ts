/**
 * Wilson score interval for a binomial proportion: `k` successes in `n` trials.
 *
 * Unlike the normal ("Wald") interval it stays inside [0, 1] and is sensible at k = 0 and k = n, which
 * is where reproduction rates live (a bug that reproduces in 0/20 or 20/20 trials). Source: E. B.
 * Wilson, "Probable inference, the law of succession, and statistical inference", JASA 22 (1927);
 * recommended by Brown, Cai & DasGupta, "Interval Estimation for a Binomial Proportion", Stat. Sci. 16
 * (2001).
 *
 *   centre = (p + z²/2n) / (1 + z²/n)
 *   half   = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)
 */

/** Two-sided 95 %: the 97.5th percentile of the standard normal. */
export const Z_95 = 1.959963984540054;

/** A proportion with its interval; all three in [0, 1]. */
export interface ProportionInterval {
  /** k / n (0 when n = 0). */
  rate: number;
  low: number;
  high: number;
  /** Confidence level of [low, high], e.g. 0.95. */
  confidence: number;
}

/**
 * Wilson interval of `k` out of `n`. With n = 0 nothing is known: [0, 1].
 * @param z normal quantile; default `Z_95` (95 %).
 */
export function wilsonInterval(k: number, n: number, z = Z_95): ProportionInterval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) {
    throw new RangeError(`wilsonInterval: need whole numbers 0 ≤ k ≤ n, got k=${k} n=${n}`);
  }
  const confidence = z === Z_95 ? 0.95 : 2 * normalCdf(z) - 1;
  if (n === 0) return { rate: 0, low: 0, high: 1, confidence };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At k = 0 and k = n the bound is exactly 0 / 1; clamp the rounding error away.
  return {
    rate: p,
    low: k === 0 ? 0 : Math.max(0, centre - half),
    high: k === n ? 1 : Math.min(1, centre + half),
    confidence,
  };
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf approximation, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(x)) / Math.SQRT2);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
