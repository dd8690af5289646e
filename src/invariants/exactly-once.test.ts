import { describe, expect, it } from 'vitest';
import { config, judgeExactlyOnce } from './exactly-once.js';

const cfg = config.parse({
  type: 'exactly-once',
  name: 'once',
  query: 'SELECT 1',
  key: ['task', 'tick'],
  by: 'instance',
  at: 'executed_at',
  atLeastOnce: { tickColumn: 'tick', tickMs: 1000, graceMs: '2s' },
});

/** Ledger rows for `task` at each tick, executed by `instance`. */
function ledger(task: string, ticks: number[], instance: number) {
  return ticks.map((tick) => ({
    task,
    tick: String(tick),
    instance,
    executed_at: new Date(tick * 1000 + 5),
  }));
}

// Window: epoch 100.5 s .. 110.2 s → ticks 101..107 are judged (107 ends at 108 s, 2 s grace before 110.2 s).
const window = { startEpochMs: 100_500, endEpochMs: 110_200, startMs: 0, endMs: 9_700 };
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('exactly-once', () => {
  it('holds with one execution per tick and none missed', () => {
    const rows = [...ledger('email', range(100, 109), 0), ...ledger('charge', range(101, 107), 1)];
    const r = judgeExactlyOnce(cfg, rows, window);
    expect(r.holds).toBe(true);
    expect(r.summary).toMatch(/no tick missed \(14 expected/);
  });

  it('names duplicated keys, both instances and both times', () => {
    const rows = [...ledger('email', range(100, 109), 0), ...ledger('email', [103, 104], 1)];
    const r = judgeExactlyOnce(cfg, rows, window);
    expect(r.holds).toBe(false);
    expect(r.summary).toMatch(
      /2 keys executed more than once \(by instance 0, 1\), e.g. task=email tick=103 ×2 by 0, 1/,
    );
    expect(r.witnesses[0]).toEqual({
      problem: 'duplicate',
      key: { task: 'email', tick: '103' },
      executions: 2,
      by: ['0', '1'],
      at: [new Date(103_005).toISOString(), new Date(103_005).toISOString()],
    });
  });

  it('reports ticks missed inside the window, not those in the grace period or before it', () => {
    // 105 missing (inside); 108 missing but within the grace period; 100 before the window.
    const rows = ledger('email', [101, 102, 103, 104, 106, 107], 0);
    const r = judgeExactlyOnce(cfg, rows, window);
    expect(r.holds).toBe(false);
    expect(r.witnessCount).toBe(1);
    expect(r.witnesses[0]).toMatchObject({ problem: 'missed', key: { task: 'email', tick: '105' } });
    expect(r.summary).toMatch(/1 tick missed of 7 expected/);
  });

  it('step: only every n-th tick is expected', () => {
    const stepped = config.parse({ ...cfg, atLeastOnce: { ...cfg.atLeastOnce, step: 5 } });
    expect(judgeExactlyOnce(stepped, ledger('email', [105], 0), window).holds).toBe(true);
    expect(judgeExactlyOnce(stepped, ledger('email', [104], 0), window).holds).toBe(false);
  });

  it('an empty ledger misses everything; without a window missed ticks are unknown', () => {
    expect(judgeExactlyOnce(cfg, [], window).summary).toMatch(/no executions at all/);
    expect(judgeExactlyOnce(cfg, ledger('email', [1], 0), undefined).holds).toBe('unknown');
    const noAtLeast = config.parse({ ...cfg, atLeastOnce: undefined });
    expect(judgeExactlyOnce(noAtLeast, [], undefined).holds).toBe(true);
  });
});
