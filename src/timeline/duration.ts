import { z } from 'zod';

/**
 * Durations as scenario authors write them: a plain number of milliseconds (`1500`) or a string with a
 * unit — `500ms`, `2s`, `1.5s`, `1m`. Everything inside whatbreaks is milliseconds.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const;
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/;

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

/** A zod field accepting `2s`, `500ms`, `1m` or a number of ms; outputs ms. */
export const durationMs = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `not a duration: ${JSON.stringify(v)}; write e.g. 500ms, 2s, 1m or a number of ms`,
    });
    return z.NEVER;
  }
  return ms;
});
