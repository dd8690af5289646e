import { describe, expect, it } from 'vitest';
import { readAttempts } from './herd-attempts.js';

describe('readAttempts', () => {
  it('reads 1-based attempts: 1 is a first try, 2 and up are retries', () => {
    const r = readAttempts(['1', '2', '1', '3'], 'x-attempt', 1);
    expect(r).toEqual({ source: 'header', retry: [false, true, false, true] });
  });

  it('reads 0-based attempts: 0 is a first try, 1 and up are retries', () => {
    const r = readAttempts(['0', '1', '0', '2'], 'x-retry-count', 0);
    expect(r).toEqual({ source: 'header', retry: [false, true, false, true] });
  });

  it('takes a call without the header, while others carry it, for a first try', () => {
    expect(readAttempts([undefined, '2', undefined], 'x-attempt', 1).retry).toEqual([false, true, false]);
    expect(readAttempts([undefined, '1', undefined], 'x-attempt', 0).retry).toEqual([false, true, false]);
  });

  it('says none when no call carries the header', () => {
    expect(readAttempts([undefined, undefined], 'x-attempt', 1)).toEqual({
      source: 'none',
      retry: [undefined, undefined],
    });
  });

  it('ignores a 0-based header read as 1-based, saying to set firstAttempt: 0', () => {
    const r = readAttempts(['0', '1', '0', '2'], 'x-attempt', 1);
    expect(r.source).toBe('ignored');
    expect(r.retry).toEqual([undefined, undefined, undefined, undefined]);
    expect(r.note).toContain("2 calls carried 'x-attempt: 0', below firstAttempt 1");
    expect(r.note).toContain('set firstAttempt: 0');
  });

  it('ignores a 1-based header read as 0-based: no call is a first try', () => {
    const r = readAttempts(['1', '2', '1', '3'], 'x-attempt', 0);
    expect(r.source).toBe('ignored');
    expect(r.note).toContain("no call carried 'x-attempt: 0'");
    expect(r.note).toContain('set firstAttempt: 1');
  });

  it('ignores values that are not attempt numbers', () => {
    const r = readAttempts(['1', 'attempt=2; max=3'], 'amz-sdk-request', 1);
    expect(r.source).toBe('ignored');
    expect(r.note).toContain("'amz-sdk-request: attempt=2; max=3' is not an attempt number");
  });
});
