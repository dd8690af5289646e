import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverMutationPoints, rewriterFor } from '../src/mutate/discover.js';
import { type StartedPgProxy, startPgProxy } from '../src/pgwire/proxy.js';
import { startTestPostgres, type TestPostgres } from './pgwire-support.js';

/**
 * The mutant's rewrite at the protocol proxy, against a real PostgreSQL: a row lock the mutant drops is
 * really not taken (a `NOWAIT` that would fail on a held lock succeeds), and a statement the parser cannot
 * read reaches PostgreSQL with its own bytes (PostgreSQL's own syntax error comes back).
 */
let db: TestPostgres;
let proxy: StartedPgProxy;
const seen: string[] = [];
const lock = 'SELECT id FROM t WHERE id = $1 FOR UPDATE NOWAIT';

beforeAll(async () => {
  db = await startTestPostgres();
  const setup = new pg.Client(db.config());
  await setup.connect();
  await setup.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)');
  await setup.end();
  const d = await discoverMutationPoints([
    { sql: lock, count: 1 },
    { sql: 'SELEC id FROM t', count: 1 },
  ]);
  expect(d.points.map((p) => p.operator)).toEqual(['drop-row-lock']);
  expect(d.unparsed.map((u) => u.sql)).toEqual(['SELEC id FROM t']);
  const rewriter = rewriterFor(d.points[0]!);
  proxy = await startPgProxy({
    upstream: { host: '127.0.0.1', port: db.port },
    rewriteSql: (sql) => {
      seen.push(sql);
      const r = rewriter.rewrite(sql);
      return r.changed ? r.sql : undefined;
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await db?.stop();
});

describe('SQL mutant at the protocol proxy', () => {
  it('drops the row lock: FOR UPDATE NOWAIT no longer fails on a row another session holds', async () => {
    const holder = new pg.Client(db.config());
    const direct = new pg.Client(db.config());
    const viaProxy = new pg.Client(db.config('scram', proxy.address.port));
    await Promise.all([holder.connect(), direct.connect(), viaProxy.connect()]);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM t WHERE id = 1 FOR UPDATE');
      // Direct: the lock is there, NOWAIT fails (lock_not_available).
      await expect(direct.query(lock, [1])).rejects.toMatchObject({ code: '55P03' });
      // Through the proxy with the mutant: the clause is gone, the row comes back at once.
      const r = await viaProxy.query(lock, [1]);
      expect(r.rows).toEqual([{ id: 1 }]);
      expect(seen).toContain(lock);
    } finally {
      await holder.query('ROLLBACK');
      await Promise.all([holder.end(), direct.end(), viaProxy.end()]);
    }
  }, 60_000);

  it('passes a statement the parser cannot read through unchanged (PostgreSQL answers it)', async () => {
    const viaProxy = new pg.Client(db.config('scram', proxy.address.port));
    await viaProxy.connect();
    try {
      await expect(viaProxy.query('SELEC id FROM t')).rejects.toMatchObject({
        code: '42601',
        message: 'syntax error at or near "SELEC"',
        position: '1',
      });
      expect(seen).toContain('SELEC id FROM t');
      expect((await viaProxy.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await viaProxy.end();
    }
  }, 60_000);
});
