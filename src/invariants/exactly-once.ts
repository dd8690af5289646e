import { z } from 'zod';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import type { Holds, Invariant, InvariantResult, TrialObservation } from './types.js';
import { MAX_WITNESSES_KEPT } from './types.js';

/**
 * `exactly-once`: every unit of work happened once. A ledger `query` returns one row per execution
 * (a cron task run, a charge, a delivered message); rows sharing the `key` columns are duplicates.
 * With `atLeastOnce`, every tick inside the trial's window must also be there: none missed.
 *
 * ```yaml
 * - type: exactly-once
 *   name: each-tick-once
 *   query: SELECT task, tick, instance, executed_at FROM task_executions
 *   key: [task, tick]          # one execution per (task, tick)
 *   by: instance               # who executed it (witnesses name both replicas)
 *   at: executed_at            # when (witnesses show both times)
 *   atLeastOnce:
 *     tickColumn: tick         # one of `key`; integer, tick t covers [t·tickMs, (t+1)·tickMs) epoch ms
 *     tickMs: 1000
 *     step: 1                  # only ticks divisible by step are expected (every 5th second: 5)
 *     graceMs: 3s              # a tick is judged only once graceMs have passed after it ended
 * ```
 *
 * Duplicates are counted over every row (the database is fresh each trial). Missed ticks are judged
 * only for ticks that lie wholly inside the load's window and ended at least `graceMs` before it closed
 * — the time a failover may take (a lease expiring) — for each group of the other key columns seen in
 * the ledger (a task that never ran at all is reported as "no executions").
 *
 * Witnesses: `{ problem: 'duplicate', key, executions, by, at }` and `{ problem: 'missed', key, tickStartsAt }`.
 */
export const config = z
  .strictObject({
    type: z.literal('exactly-once'),
    name: z.string().min(1),
    description: z.string().optional(),
    query: z.string().min(1).meta({ description: 'Returns one row per execution.' }),
    key: z.array(z.string().min(1)).min(1).meta({ description: 'Columns that identify one unit of work.' }),
    by: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Column naming who executed it (instance, worker).' }),
    at: z.string().min(1).optional().meta({ description: 'Column saying when it was executed.' }),
    atLeastOnce: z
      .strictObject({
        tickColumn: z.string().min(1),
        tickMs: positiveDurationMs.default(1_000).meta({
          description: 'Length of one tick unit, ms: tick t covers epoch ms [t·tickMs, (t+1)·tickMs).',
        }),
        step: z
          .int()
          .positive()
          .default(1)
          .meta({ description: 'Only ticks divisible by `step` are expected.' }),
        graceMs: durationMs
          .default(0)
          .meta({ description: 'Judge a tick only once this long has passed after its end, ms (`3s`).' }),
      })
      .optional(),
  })
  .meta({
    description:
      "`exactly-once`: every unit of work happened once. A ledger `query` returns one row per execution (a cron task run, a charge, a delivered message); rows sharing the `key` columns are duplicates. With `atLeastOnce`, every tick inside the trial's window must also be there: none missed.",
    yaml: '- type: exactly-once\n  name: each-tick-once\n  query: SELECT task, tick, instance, executed_at FROM task_executions\n  key: [task, tick]          # one execution per (task, tick)\n  by: instance               # who executed it (witnesses name both replicas)\n  at: executed_at            # when (witnesses show both times)\n  atLeastOnce:\n    tickColumn: tick         # one of `key`; integer, tick t covers [t·tickMs, (t+1)·tickMs) epoch ms\n    tickMs: 1000\n    step: 1                  # only ticks divisible by step are expected (every 5th second: 5)\n    graceMs: 3s              # a tick is judged only once graceMs have passed after it ended',
  });
export type ExactlyOnceConfig = z.output<typeof config>;

type Row = Record<string, unknown>;

function text(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return v === null || v === undefined ? 'null' : String(v);
}

function keyOf(row: Row, columns: readonly string[]): Record<string, string> {
  return Object.fromEntries(columns.map((c) => [c, text(row[c])]));
}

function describeKey(key: Record<string, string>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The verdict for ledger `rows`; `window` in epoch ms is needed for `atLeastOnce`. Pure (tested without a database). */
export function judgeExactlyOnce(
  cfg: ExactlyOnceConfig,
  rows: readonly Row[],
  window?: TrialObservation['window'],
): Omit<InvariantResult, 'name' | 'type'> {
  const groups = new Map<string, { key: Record<string, string>; rows: Row[] }>();
  for (const row of rows) {
    const key = keyOf(row, cfg.key);
    const id = JSON.stringify(key);
    let g = groups.get(id);
    if (!g) {
      g = { key, rows: [] };
      groups.set(id, g);
    }
    g.rows.push(row);
  }
  const witnesses: Row[] = [];
  const duplicates = [...groups.values()].filter((g) => g.rows.length > 1);
  const instances = new Set<string>();
  for (const g of duplicates) {
    const by = cfg.by ? g.rows.map((r) => text(r[cfg.by!])) : undefined;
    for (const b of by ?? []) instances.add(b);
    witnesses.push({
      problem: 'duplicate',
      key: g.key,
      executions: g.rows.length,
      ...(by ? { by } : {}),
      ...(cfg.at ? { at: g.rows.map((r) => text(r[cfg.at!])) } : {}),
    });
  }

  const problems: string[] = [];
  let holds: Holds = true;
  if (duplicates.length > 0) {
    holds = false;
    const first = duplicates[0]!;
    const firstBy = cfg.by ? ` by ${first.rows.map((r) => text(r[cfg.by!])).join(', ')}` : '';
    problems.push(
      `${duplicates.length} key${duplicates.length === 1 ? '' : 's'} executed more than once` +
        `${instances.size ? ` (by ${cfg.by} ${[...instances].sort().join(', ')})` : ''}, e.g. ${describeKey(first.key)} ×${first.rows.length}${firstBy}`,
    );
  }

  let missedCount = 0;
  let expectedCount = 0;
  const al = cfg.atLeastOnce;
  if (al) {
    if (!window) {
      if (holds === true) holds = 'unknown';
      problems.push('no trial window to judge missed ticks in');
    } else {
      const other = cfg.key.filter((k) => k !== al.tickColumn);
      const first = Math.ceil(window.startEpochMs / al.tickMs);
      const last = Math.floor((window.endEpochMs - al.graceMs) / al.tickMs) - 1;
      const seen = new Map<string, { key: Record<string, string>; ticks: Set<number> }>();
      for (const g of groups.values()) {
        const okey = Object.fromEntries(other.map((k) => [k, g.key[k]!]));
        const id = JSON.stringify(okey);
        let s = seen.get(id);
        if (!s) {
          s = { key: okey, ticks: new Set() };
          seen.set(id, s);
        }
        s.ticks.add(Number(g.key[al.tickColumn]));
      }
      const expected: number[] = [];
      for (let t = first; t <= last; t++) if (t % al.step === 0) expected.push(t);
      if (expected.length > 0 && seen.size === 0) {
        holds = false;
        missedCount = expected.length;
        problems.push(`no executions at all; ${expected.length} ticks expected in the window`);
      }
      for (const s of seen.values()) {
        for (const t of expected) {
          expectedCount++;
          if (s.ticks.has(t)) continue;
          missedCount++;
          witnesses.push({
            problem: 'missed',
            key: { ...s.key, [al.tickColumn]: String(t) },
            tickStartsAt: new Date(t * al.tickMs).toISOString(),
          });
        }
      }
      if (missedCount > 0 && seen.size > 0) {
        holds = false;
        const firstMissed = witnesses.find((w) => w.problem === 'missed')!;
        problems.push(
          `${missedCount} tick${missedCount === 1 ? '' : 's'} missed of ${expectedCount} expected, e.g. ${describeKey(firstMissed.key as Record<string, string>)}`,
        );
      }
    }
  }

  const summary =
    problems.length > 0
      ? problems.join('; ')
      : `${groups.size} keys executed once each${al ? `, no tick missed (${expectedCount} expected in the window)` : ''}`;
  return {
    holds,
    summary,
    witnesses: witnesses.slice(0, MAX_WITNESSES_KEPT),
    witnessCount: witnesses.length,
  };
}

export function create(cfg: ExactlyOnceConfig): Invariant {
  return {
    name: cfg.name,
    type: 'exactly-once',
    async check({ db, window }) {
      let rows: Row[];
      try {
        rows = await db.query(cfg.query);
      } catch (err) {
        return {
          name: cfg.name,
          type: 'exactly-once',
          holds: 'unknown',
          summary: `query failed: ${(err as Error).message}`,
          witnesses: [],
          witnessCount: 0,
        };
      }
      const missing = [...cfg.key, cfg.by, cfg.at].filter(
        (c): c is string => c !== undefined && rows.length > 0 && !(c in rows[0]!),
      );
      if (missing.length > 0) {
        return {
          name: cfg.name,
          type: 'exactly-once',
          holds: 'unknown',
          summary: `the query returns no column ${missing.join(', ')} (it returns ${Object.keys(rows[0]!).join(', ')})`,
          witnesses: [],
          witnessCount: 0,
        };
      }
      return { name: cfg.name, type: 'exactly-once', ...judgeExactlyOnce(cfg, rows, window) };
    },
  };
}
