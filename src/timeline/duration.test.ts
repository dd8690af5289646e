import { describe, expect, it } from 'vitest';
import { durationMs, formatDurationMs, parseDurationMs } from './duration.js';

describe('parseDurationMs', () => {
  it('reads ms, s, m and plain numbers', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('2s')).toBe(2000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('1m')).toBe(60_000);
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs(0)).toBe(0);
    expect(parseDurationMs(' 3 s ')).toBe(3000);
  });
  it('rejects what is not a duration', () => {
    expect(parseDurationMs('2h')).toBeUndefined();
    expect(parseDurationMs('-1s')).toBeUndefined();
    expect(parseDurationMs('soon')).toBeUndefined();
    expect(parseDurationMs(-5)).toBeUndefined();
    expect(parseDurationMs(Number.NaN)).toBeUndefined();
  });
  it('zod field reports a readable issue', () => {
    expect(durationMs.parse('2s')).toBe(2000);
    const r = durationMs.safeParse('2 hours');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/not a duration/);
  });
  it('formats', () => {
    expect(formatDurationMs(500)).toBe('500 ms');
    expect(formatDurationMs(2000)).toBe('2 s');
    expect(formatDurationMs(1250)).toBe('1.25 s');
  });
});
