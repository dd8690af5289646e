import { describe, expect, it } from 'vitest';
import { trialProgress } from '../run-progress.js';
import { loadText, progressWanted, statusLines } from './progress.js';

describe('live status', () => {
  it('is wanted only on a sized terminal, outside CI, with a TERM that can redraw', () => {
    const tty = { isTTY: true, columns: 120, rows: 40 };
    expect(progressWanted(tty, tty, {})).toBe(true);
    expect(progressWanted({ isTTY: false }, tty, {})).toBe(false);
    expect(progressWanted(tty, { isTTY: false }, {})).toBe(false);
    expect(progressWanted(tty, tty, { CI: 'true' })).toBe(false);
    expect(progressWanted(tty, tty, { TERM: 'dumb' })).toBe(false);
    expect(progressWanted(tty, { isTTY: true, columns: 0, rows: 0 }, {})).toBe(false);
  });

  it('says what the load did and which faults are on', () => {
    const tick = {
      type: 'tick' as const,
      trial: 3,
      of: 10,
      phase: 'load' as const,
      trialMs: 2300,
      load: { sent: 340, answered: 300, planned: 1000 },
      faults: { planned: 2, applied: 1, failed: 0 },
    };
    expect(loadText(tick)).toBe('sent 340 of 1000, answered 300');
    const s = {
      trial: 3,
      of: 10,
      phase: 'load' as const,
      phaseSinceMs: 0,
      tick,
      done: 2,
      failed: 1,
      unknown: 1,
    };
    expect(statusLines(s, 2300, -10_000)).toEqual([
      'trial 3/10 · load: sent 340 of 1000, answered 300 · faults 1/2 applied · 2.3 s',
      '  2 of 10 trials done: 1 failed, 1 unknown · elapsed 12.3 s',
    ]);
    expect(statusLines({ ...s, phase: 'check' }, 2300, 0, 'candidate')[0]).toBe(
      'candidate trial 3/10 · checking the invariants · 2.3 s',
    );
    // An interleave run's trial count is a budget: the exploration usually ends long before it.
    expect(statusLines({ ...s, of: 500, budget: true, phase: 'check' }, 2300, -10_000)).toEqual([
      'trial 3 (budget 500 schedules) · checking the invariants · 2.3 s',
      '  2 schedules done: 1 failed, 1 unknown · elapsed 12.3 s',
    ]);
  });

  it('a run asked for no ticks counts nothing and runs no timer', async () => {
    const events: unknown[] = [];
    const quiet = trialProgress({ trial: 1, of: 1, emit: (e) => events.push(e) });
    expect(quiet.counters).toBeUndefined();
    await new Promise((r) => setTimeout(r, 30));
    expect(events).toEqual([]);
    const ticking = trialProgress({ trial: 1, of: 1, emit: (e) => events.push(e), tickMs: 5 });
    ticking.counters!.sent = 7;
    await new Promise((r) => setTimeout(r, 40));
    ticking.stop();
    expect(events.length).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: 'tick', trial: 1, load: { sent: 7, answered: 0 } });
  });
});
