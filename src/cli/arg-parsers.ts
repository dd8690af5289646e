import { InvalidArgumentError } from 'commander';

/**
 * Option value parsers shared by the commands (commander's `argParser`). Each throws commander's
 * `InvalidArgumentError`, which commander prints with the option's name and exits 2.
 */

/** A whole number ≥ 1 (`--trials 20`). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** A number from 0 to 1 (`--min-mutation-score 0.8`). */
export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}
