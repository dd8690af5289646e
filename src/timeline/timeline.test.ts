import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Fault, FaultEnvironment } from './fault.js';
import { startTimeline } from './timeline.js';

const env = {} as FaultEnvironment;

function ctx() {
  const t0 = performance.now();
  return { env, clock: () => performance.now() - t0, signal: new AbortController().signal };
}

/** A fault that records when it was applied and reverted. */
function probe(
  events: string[],
  name: string,
  opts: { revert?: boolean; fail?: 'apply' | 'revert'; persistent?: boolean } = {},
): Fault {
  return {
    type: 'probe',
    target: name,
    persistent: opts.persistent,
    async apply(c) {
      events.push(`apply ${name}`);
      c.note(`applied ${name}`);
      if (opts.fail === 'apply') throw new Error(`cannot ${name}`);
      if (!opts.revert) return undefined;
      return async () => {
        events.push(`revert ${name}`);
        if (opts.fail === 'revert') throw new Error(`cannot undo ${name}`);
      };
    },
  };
}

describe('timeline', () => {
  it('applies in time order, reverts after `for`, and records the windows', async () => {
    const events: string[] = [];
    const tl = startTimeline(
      [
        { atMs: 60, forMs: 40, fault: probe(events, 'b', { revert: true }) },
        { atMs: 10, fault: probe(events, 'a') },
      ],
      ctx(),
    );
    await sleep(200);
    const records = await tl.stop();
    expect(events).toEqual(['apply a', 'apply b', 'revert b']);
    expect(records.map((r) => [r.target, r.outcome])).toEqual([
      ['a', 'applied'],
      ['b', 'applied'],
    ]);
    const [a, b] = records;
    expect(a!.startMs).toBeGreaterThanOrEqual(10);
    expect(a!.endMs).toBeGreaterThanOrEqual(a!.startMs!);
    expect(b!.startMs).toBeGreaterThanOrEqual(60);
    // `for` counts from the scheduled time (at 60 ms), so the revert comes no earlier than 100 ms; a late
    // apply shortens the window instead of moving the revert. Timers may fire up to a ms early.
    expect(b!.endMs!).toBeGreaterThanOrEqual(99);
    expect(b!.endMs!).toBeGreaterThan(b!.startMs!);
    expect(b!.detail).toBe('applied b');
  });

  it('reverts active faults and skips pending ones when the load ends', async () => {
    const events: string[] = [];
    const tl = startTimeline(
      [
        { atMs: 0, fault: probe(events, 'open', { revert: true }) },
        { atMs: 0, fault: probe(events, 'kill', { persistent: true }) },
        { atMs: 10_000, fault: probe(events, 'late') },
      ],
      ctx(),
    );
    await sleep(30);
    const records = await tl.stop();
    expect(events).toEqual(['apply open', 'apply kill', 'revert open']);
    const by = Object.fromEntries(records.map((r) => [r.target, r]));
    expect(by.open!.endMs).toBeDefined();
    expect(by.kill!.endMs).toBeUndefined(); // lasts to the end of the trial
    expect(by.late!.outcome).toBe('skipped');
    expect(by.late!.endMs).toBe(by.late!.startMs);
    expect(by.late!.detail).toMatch(/load ended first/);
  });

  it('records a failing fault instead of throwing', async () => {
    const events: string[] = [];
    const tl = startTimeline(
      [
        { atMs: 0, fault: probe(events, 'x', { fail: 'apply' }) },
        { atMs: 0, forMs: 5, fault: probe(events, 'y', { revert: true, fail: 'revert' }) },
        { atMs: 5, fault: probe(events, 'z') },
      ],
      ctx(),
    );
    await sleep(50);
    const records = await tl.stop();
    const by = Object.fromEntries(records.map((r) => [r.target, r]));
    expect(by.x).toMatchObject({ outcome: 'failed', error: 'cannot x' });
    expect(by.y).toMatchObject({ outcome: 'failed', error: 'revert failed: cannot undo y' });
    expect(by.z!.outcome).toBe('applied');
  });

  it('a fault that waits before it acts: its window and its `for` start when it says so', async () => {
    const events: string[] = [];
    const waiting: Fault = {
      type: 'probe',
      target: 'chosen later',
      async apply(c) {
        await sleep(200);
        c.startsNow('replica 1');
        events.push('kill');
        return async () => {
          events.push('restart');
        };
      },
    };
    const tl = startTimeline([{ atMs: 10, forMs: 150, fault: waiting }], ctx());
    await sleep(280);
    // Killed at ≥ 210 ms. Counted from `at`, the restart would be overdue (160 ms) and come at once;
    // counted from the kill, it comes at ≥ 360 ms.
    expect(events).toEqual(['kill']);
    await sleep(150);
    const [rec] = await tl.stop();
    expect(events).toEqual(['kill', 'restart']);
    expect(rec).toMatchObject({ target: 'replica 1', outcome: 'applied' });
    expect(rec!.startMs).toBeGreaterThanOrEqual(209);
    expect(rec!.endMs! - rec!.startMs).toBeGreaterThanOrEqual(148);
  });
});
