import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapPaced } from './paced.js';

describe('mapPaced', () => {
  it('runs at most `limit` at a time, starts them in order and keeps the results in order', async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await mapPaced([30, 5, 20, 1, 10, 2, 8], 3, async (ms, i) => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await sleep(ms);
      running--;
      return ms * 2;
    });
    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(results).toEqual([60, 10, 40, 2, 20, 4, 16]);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const run = mapPaced([0, 1, 2, 3, 4, 5], 2, async (i) => {
      started.push(i);
      await sleep(5);
      if (i === 1) throw new Error('boom');
      return i;
    });
    await expect(run).rejects.toThrow('boom');
    await sleep(30);
    expect(started.length).toBeLessThanOrEqual(3);
  });

  it('handles no items and a limit above the item count', async () => {
    await expect(mapPaced([], 4, async () => 1)).resolves.toEqual([]);
    await expect(mapPaced([1, 2], 10, async (x) => x)).resolves.toEqual([1, 2]);
  });
});
