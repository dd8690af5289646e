import { z } from 'zod';

/**
 * Durations as scenario authors write them, everywhere a scenario gives a time: a plain number of
 * milliseconds (`1500`) or a string with a unit — `500ms`, `2s`, `1.5s`, `1m` (a string without a unit
 * is ms too). Everything inside whatbreaks is milliseconds. One parser (`parseDurationMs`), one zod type
 * per bound (`durationMs`: ≥ 0, `positiveDurationMs`: > 0), one error message; the JSON Schema of the
 * scenario format gets the same rule as a pattern, so an editor flags `2h` too.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const;
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/;
/** `PATTERN` for the JSON Schema (ECMA-262), and the same with a non-zero digit required. */
const PATTERN_SOURCE = String.raw`^\s*\d+(?:\.\d+)?\s*(?:ms|s|m)?\s*$`;
const POSITIVE_PATTERN_SOURCE = String.raw`^\s*(?=[\d.]*[1-9])\d+(?:\.\d+)?\s*(?:ms|s|m)?\s*$`;

/** Milliseconds of `text` (`'2s'` → 2000, `'500ms'` → 500, `'250'` → 250), or undefined if it is not a duration. */
export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS];
}

/** Human form of a duration in ms: `500 ms`, `2 s`, `1.25 s`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1_000) return `${Number(ms.toFixed(1))} ms`;
  return `${Number((ms / 1_000).toFixed(3))} s`;
}

/** The one message every duration field gives for a value it cannot read. */
export function durationMessage(input: unknown, positive: boolean): string {
  const shown = typeof input === 'string' ? JSON.stringify(input) : String(input);
  return `not a${positive ? ' positive' : ''} duration: ${shown}; write e.g. 500ms, 2s, 1m or a number of ms${positive ? ' (more than 0)' : ''}`;
}

function duration(positive: boolean) {
  // Every branch and check gives the same message: zod reports the branch whose type matched.
  const error = (iss: { input?: unknown }) => durationMessage(iss.input, positive);
  const n = positive ? z.number({ error }).positive({ error }) : z.number({ error }).nonnegative({ error });
  const s = z
    .string({ error })
    .regex(new RegExp(positive ? POSITIVE_PATTERN_SOURCE : PATTERN_SOURCE), { error });
  return z
    .union([n, s], { error })
    .transform((v, ctx) => {
      const ms = parseDurationMs(v);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', input: v, message: durationMessage(v, positive) });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ title: positive ? 'positive duration' : 'duration' });
}

/** A zod field accepting `2s`, `500ms`, `1m` or a number of ms (≥ 0); outputs ms. */
export const durationMs = duration(false);
/** Like `durationMs`, but more than 0 (`0`, `0s` are rejected). */
export const positiveDurationMs = duration(true);
