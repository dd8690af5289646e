import { describe, expect, it } from 'vitest';
import { DueTimer } from './due-timer.js';

/** The due timer: calls back at the due time (never before), one pending callback at a time. */
const clock = () => performance.now();
const at = (t: DueTimer, dueMs: number) =>
  new Promise<number>((resolve) => t.at(dueMs, () => resolve(clock())));

describe('DueTimer', () => {
  it('calls back at the due time, never before, for sub-millisecond and longer waits', async () => {
    const t = new DueTimer(clock);
    for (const aheadMs of [0.2, 0.7, 1.5, 4, 12, 0, -3]) {
      const due = clock() + aheadMs;
      const calledAt = await at(t, due);
      expect(calledAt).toBeGreaterThanOrEqual(due);
    }
  });

  it('keeps the event loop turning while it waits (I/O and other callbacks still run)', async () => {
    const t = new DueTimer(clock);
    let turns = 0;
    const other = setInterval(() => turns++, 0);
    await at(t, clock() + 10);
    clearInterval(other);
    expect(turns).toBeGreaterThan(3);
  });

  it('replaces a pending callback when armed again, and forgets it on cancel', async () => {
    const t = new DueTimer(clock);
    const calls: string[] = [];
    t.at(clock() + 1, () => calls.push('replaced (spinning)'));
    t.at(clock() + 8, () => calls.push('replaced (sleeping)'));
    await at(t, clock() + 12);
    t.at(clock() + 1, () => calls.push('cancelled'));
    t.cancel();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls).toEqual([]);
  });

  it('runs a schedule: many due times in a row, each callback arming the next', async () => {
    const t = new DueTimer(clock);
    const start = clock();
    const calledAt = await new Promise<number[]>((resolve) => {
      const times: number[] = [];
      const tick = () => {
        times.push(clock());
        if (times.length === 100) resolve(times);
        else t.at(start + times.length * 0.25, tick);
      };
      t.at(start, tick);
    });
    for (const [k, c] of calledAt.entries()) expect(c).toBeGreaterThanOrEqual(start + k * 0.25);
  });
});
