import pg from 'pg';
import { WhatbreaksError } from '../errors.js';
import type { Database, SqlText } from './types.js';

/**
 * libpq `options` for whatbreaks' own connections (resets, seeding, invariant queries): their commits do
 * not wait for the WAL flush. The run's PostgreSQL itself keeps `fsync` and `synchronous_commit` on,
 * although it is thrown away: a commit sits inside many race windows (check → write → commit), and a
 * commit that skips the flush makes those windows narrower than in production. With `fsync=off` the buggy
 * `jobs` target's 2-request race reproduced in 42 of 60 trials, with it on in 55 of 60
 * (bench/RESULTS.md). The target's sessions keep the server default.
 */
export const OWN_SESSION_OPTIONS = '-c synchronous_commit=off';

/** How many times {@link PostgresDatabase.reset} tries before it gives up (`DATABASE_FAILED`). */
export const RESET_ATTEMPTS = 4;

/**
 * whatbreaks' own connection to the run's database: resets it between trials and answers invariants'
 * queries. A small pool, separate from the target's connections.
 */
export class PostgresDatabase implements Database {
  private readonly pool: pg.Pool;

  constructor(readonly url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, options: OWN_SESSION_OPTIONS });
    this.pool.on('error', () => {
      // An idle connection killed by a nemesis is replaced on the next query.
    });
  }

  async query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    const res = await this.pool.query<R>(sql, params);
    return res.rows;
  }

  /**
   * A fresh state for the next trial: drop and recreate the `public` schema, then run `sql` (schema,
   * seed, setup) in order. The target keeps running during a reset (a scheduler's ticks, a worker's
   * polling), so the drop can meet its sessions:
   * - a lock the target holds that blocks the drop past `lock_timeout` (an idle-in-transaction
   *   connection, 55P03): the target's backends are terminated and the reset retried;
   * - a deadlock between the drop and a statement of the target (40P01: `DROP SCHEMA … CASCADE` locks
   *   the schema's objects one by one while a target's transaction takes two of them in another order):
   *   PostgreSQL aborts one side, here the drop, which is retried.
   * At most {@link RESET_ATTEMPTS} attempts.
   * @throws WhatbreaksError `SCENARIO_INVALID` for SQL of a source that PostgreSQL rejects, and
   *   `DATABASE_FAILED` for anything else (a lost connection, a server shut down, locks that stay).
   */
  async reset(sql: readonly SqlText[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.resetOnce(sql);
        return;
      } catch (err) {
        if (err instanceof WhatbreaksError) throw err;
        const code = (err as { code?: string }).code;
        const retryable = code === '55P03' || code === '40P01'; // lock_not_available, deadlock_detected
        if (!retryable || attempt >= RESET_ATTEMPTS) {
          // The database or the connection failed, not whatbreaks: the run ends with this error, no trial judged.
          throw new WhatbreaksError(
            'DATABASE_FAILED',
            `resetting the database failed${attempt > 1 ? ` (attempt ${attempt})` : ''}: ${(err as Error).message}${code ? ` (SQLSTATE ${code})` : ''}`,
            "the run's PostgreSQL log is in its run folder, logs/postgres.log",
            { cause: err },
          );
        }
        if (code === '55P03') {
          await this.pool.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          );
        }
      }
    }
  }

  /**
   * Run `sql` in order without dropping anything (an existing database's `setup`). Errors as `reset`'s
   * SQL: `SCENARIO_INVALID` naming the source for a text PostgreSQL rejects.
   */
  async apply(sql: readonly SqlText[]): Promise<void> {
    for (const text of sql) await applySql(this.pool, text);
  }

  private async resetOnce(sql: readonly SqlText[]): Promise<void> {
    const client = await this.pool.connect();
    // A connection that dies while checked out and idle between two statements (the server shutting
    // down, a terminated backend) is reported by pg as an 'error' event on the client, which the pool no
    // longer listens to: unheard, it would end whatbreaks with an uncaught exception. Heard here, it
    // fails the next statement instead, and the connection is discarded, not returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      await client.query("SET lock_timeout = '5s'");
      await client.query('DROP SCHEMA IF EXISTS public CASCADE');
      await client.query('CREATE SCHEMA public');
      await client.query('RESET lock_timeout');
      for (const text of sql) await applySql(client, text);
    } catch (err) {
      broken ??= err as Error;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Run one text of a reset. PostgreSQL's rejection of a text with a source (a syntax error, an unknown
 * table, a row the seed cannot insert: SQLSTATE classes 22, 23, 42) is the scenario's problem, not
 * whatbreaks': it becomes `SCENARIO_INVALID` with `source:line:column` from the error's position. Lock
 * errors (retried by `reset`) and connection errors pass as they are.
 */
async function applySql(client: pg.Pool | pg.PoolClient, text: SqlText): Promise<void> {
  if (typeof text === 'string') {
    await client.query(text);
    return;
  }
  try {
    await client.query(text.sql);
  } catch (err) {
    const e = err as { code?: string; position?: string; message: string };
    if (!e.code || !/^(22|23|42)/.test(e.code)) throw err;
    throw new WhatbreaksError(
      'SCENARIO_INVALID',
      `${text.source}${where(text.sql, Number(e.position))}: PostgreSQL rejected it: ${e.message} (SQLSTATE ${e.code})`,
      'it runs on a fresh, empty public schema before every trial, in the order schema files, seed files, database.setup',
      { cause: err },
    );
  }
}

/** `:line:column` of a 1-based character position in `sql`, or '' when there is none. */
function where(sql: string, position: number): string {
  if (!Number.isInteger(position) || position < 1) return '';
  const before = [...sql].slice(0, position - 1).join('');
  const lines = before.split('\n');
  return `:${lines.length}:${lines.at(-1)!.length + 1}`;
}
