import { describe, expect, it } from 'vitest';
import { type Chooser, Explorer, type ExplorerOptions, pinnedChooser } from './explorer.js';
import { type ChoicePoint, parseSchedule, preemptions, scheduleId } from './schedule.js';

/**
 * A model program: request i has `steps[i]` steps, each always enabled until done (no locks). Runs one
 * schedule with `choose` and returns its choice points, as a trial would report them.
 */
function simulate(steps: readonly number[], choose: Chooser): ChoicePoint[] | string {
  const left = [...steps];
  const points: ChoicePoint[] = [];
  for (;;) {
    const enabled = left.flatMap((n, i) => (n > 0 ? [i] : []));
    if (enabled.length === 0) return points;
    const c = choose(points.length, enabled, points);
    if (typeof c === 'string') return c;
    points.push({ enabled, chosen: c });
    left[c]!--;
  }
}

function explore(steps: readonly number[], o: Partial<ExplorerOptions> = {}) {
  const x = new Explorer({
    groups: steps.map(() => 0),
    preemptions: 2,
    maxSchedules: 10_000,
    samples: 0,
    depth: 3,
    seed: 1,
    ...o,
  });
  const ids: string[] = [];
  for (let p = x.next(); p; p = x.next()) {
    const points = simulate(steps, p.choose);
    if (typeof points === 'string') throw new Error(points);
    ids.push(scheduleId(points.map((q) => q.chosen)));
    if (p.source === 'dfs') x.record(points);
  }
  return { ids, summary: x.summary() };
}

/** Every interleaving of a and b steps with at most `bound` preemptions, by brute force. */
function bruteForce(a: number, b: number, bound: number, symmetric: boolean): Set<string> {
  const out = new Set<string>();
  const walk = (seq: number[], la: number, lb: number) => {
    if (la === 0 && lb === 0) {
      const points = seq.map((c, k) => ({
        chosen: c,
        enabled: [0, 1].filter((r) => (r === 0 ? a : b) - seq.slice(0, k).filter((x) => x === r).length > 0),
      }));
      if (preemptions(points) <= bound && !(symmetric && seq[0] === 1)) out.add(seq.join('.'));
      return;
    }
    if (la > 0) walk([...seq, 0], la - 1, lb);
    if (lb > 0) walk([...seq, 1], la, lb - 1);
  };
  walk([], a, b);
  return out;
}

describe('Explorer: depth-first search within a preemption bound', () => {
  it('visits exactly the schedules within the bound, each once (different requests: no symmetry)', () => {
    for (const bound of [0, 1, 2, 3]) {
      const { ids, summary } = explore([3, 3], { groups: [0, 1], preemptions: bound });
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(bruteForce(3, 3, bound, false));
      expect(summary).toMatchObject({ exhaustive: true, searched: ids.length });
    }
  });

  it('symmetric requests: only the lowest fresh index is tried', () => {
    const { ids } = explore([4, 4]);
    expect(new Set(ids)).toEqual(bruteForce(4, 4, 2, true));
    expect(ids.every((id) => id.startsWith('0'))).toBe(true);
  });

  it('stops at maxSchedules and says it is not exhaustive', () => {
    const { ids, summary } = explore([4, 4], { maxSchedules: 3 });
    expect(ids).toHaveLength(3);
    expect(summary.exhaustive).toBe(false);
  });

  it('PCT samples follow the search, seeded: the same seed gives the same schedules', () => {
    const a = explore([4, 4], { maxSchedules: 1, samples: 8, seed: 7, groups: [0, 1] });
    const b = explore([4, 4], { maxSchedules: 1, samples: 8, seed: 7, groups: [0, 1] });
    expect(a.ids).toHaveLength(9);
    expect(a.ids).toEqual(b.ids);
    expect(a.summary).toMatchObject({ searched: 1, sampled: 8 });
  });
});

describe('pinned schedules', () => {
  it('follows the schedule exactly and refuses a choice that is not enabled', () => {
    expect(simulate([2, 2], pinnedChooser(parseSchedule('0.1.1.0')))).toEqual([
      { enabled: [0, 1], chosen: 0 },
      { enabled: [0, 1], chosen: 1 },
      { enabled: [0, 1], chosen: 1 },
      { enabled: [0], chosen: 0 },
    ]);
    expect(simulate([1, 1], pinnedChooser([0, 0]))).toMatch(/choice 2 of the schedule is request 0/);
    expect(simulate([1, 1], pinnedChooser([0]))).toMatch(/the schedule has 1 choices/);
  });

  it('ids round-trip; a malformed id is a usage error', () => {
    expect(parseSchedule(scheduleId([0, 1, 1]))).toEqual([0, 1, 1]);
    expect(parseSchedule('-')).toEqual([]);
    expect(() => parseSchedule('0..1')).toThrow(/not a schedule/);
  });

  it('counts preemptions as CHESS does: switching away from a request that could go on', () => {
    const p = (enabled: number[], chosen: number) => ({ enabled, chosen });
    expect(preemptions([p([0, 1], 0), p([0, 1], 1), p([1], 1), p([0], 0)])).toBe(1);
    expect(preemptions([p([0, 1], 0), p([1], 1)])).toBe(0);
  });
});
