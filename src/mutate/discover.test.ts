import { describe, expect, test } from 'vitest';
import { discoverMutationPoints, rewriterFor } from './discover.js';
import { schemaOf } from './test-support.js';

describe('discoverMutationPoints', () => {
  test('points name operator, statement, clause and executions; ids are fingerprints', async () => {
    const d = await discoverMutationPoints([
      { sql: 'BEGIN', count: 4 },
      { sql: 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE', count: 4 },
      { sql: 'select status from jobs\n  where id = $7   for update -- same statement', count: 1 },
      { sql: 'COMMIT', count: 4 },
    ]);
    expect(d.points).toEqual([
      {
        id: 'drop-row-lock@c00d0671ab775e1f',
        label: 'drop-row-lock@SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
        operator: 'drop-row-lock',
        fingerprint: 'c00d0671ab775e1f',
        site: 0,
        statement: 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
        clause: 'FOR UPDATE',
        seen: 5,
        example: {
          sql: 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
          mutant: 'SELECT status FROM jobs WHERE id = $1',
        },
      },
    ]);
    expect(d).toMatchObject({ refused: [], unparsed: [], statements: 3 });
  });

  test('psycopg2 sends literals: executions group by fingerprint, the label shows $n', async () => {
    const d = await discoverMutationPoints(
      [1, 2, 3].map((id) => ({ sql: `SELECT status FROM jobs WHERE id = ${id} FOR UPDATE`, count: 1 })),
    );
    expect(d.points).toHaveLength(1);
    expect(d.points[0]).toMatchObject({
      id: 'drop-row-lock@c00d0671ab775e1f',
      label: 'drop-row-lock@SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
      seen: 3,
    });
  });

  test('a fingerprint shared by statements with and without the site (BEGIN) counts only those with it', async () => {
    const d = await discoverMutationPoints([
      { sql: 'BEGIN', count: 10 },
      { sql: 'BEGIN ISOLATION LEVEL SERIALIZABLE', count: 3 },
    ]);
    expect(d.points.map((p) => [p.label, p.seen])).toEqual([
      ['lower-isolation@BEGIN ISOLATION LEVEL SERIALIZABLE', 3],
    ]);
    const r = rewriterFor(d.points[0]!);
    expect(r.rewrite('BEGIN ISOLATION LEVEL SERIALIZABLE')).toEqual({
      changed: true,
      sql: 'BEGIN ISOLATION LEVEL READ COMMITTED',
      statements: 1,
    });
    expect(r.rewrite('BEGIN')).toMatchObject({ changed: false, why: 'no-site' });
  });

  test('statements the parser cannot read are listed with its message and never rewritten', async () => {
    const bad = ['SELEC status FROM jobs', 'SELECT 1 FOR UPDATE; \\d jobs', 'function 1234'];
    const d = await discoverMutationPoints([
      ...bad.map((sql) => ({ sql, count: 2 })),
      { sql: 'SELECT 1 FOR UPDATE', count: 1 },
    ]);
    expect(d.unparsed.map((u) => [u.sql, u.count])).toEqual(bad.map((sql) => [sql, 2]));
    expect(d.unparsed[0]!.error).toBe('syntax error at or near "SELEC"');
    expect(d.points).toHaveLength(1);
    const r = rewriterFor(d.points[0]!);
    for (const sql of bad) expect(r.rewrite(sql)).toMatchObject({ changed: false, why: 'unparsed' });
  });

  test('multi-statement Query text: only the matching statement changes, the rest keeps its bytes', async () => {
    const d = await discoverMutationPoints([
      { sql: 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE', count: 1 },
    ]);
    const r = rewriterFor(d.points[0]!);
    const sql =
      "BEGIN;\n  SELECT status FROM jobs WHERE id = 7 FOR UPDATE ;  UPDATE jobs SET result = 'é…' WHERE id = 7;COMMIT";
    expect(r.rewrite(sql)).toEqual({
      changed: true,
      sql: "BEGIN;\n  SELECT status FROM jobs WHERE id = 7;  UPDATE jobs SET result = 'é…' WHERE id = 7;COMMIT",
      statements: 1,
    });
    expect(r.rewrite('SELECT status FROM jobs WHERE id = $1')).toEqual({ changed: false, why: 'no-match' });
    // Cached: the same object for the same text.
    expect(r.rewrite(sql)).toBe(r.rewrite(sql));
  });

  test('a statement with two sites of one operator gives #1 and #2; each rewrite removes only its own', async () => {
    const sql = 'SELECT * FROM a JOIN b ON a.id = b.a WHERE a.id = $1 FOR UPDATE OF a FOR SHARE OF b';
    const d = await discoverMutationPoints([{ sql, count: 1 }]);
    expect(d.points.map((p) => p.id.split('#')[1])).toEqual(['1', '2']);
    expect(rewriterFor(d.points[1]!).rewrite(sql)).toMatchObject({
      sql: 'SELECT * FROM a JOIN b ON a.id = b.a WHERE a.id = $1 FOR UPDATE OF a',
    });
  });

  test('the schema decides the update key; refused sites are listed with the reason', async () => {
    const schema = schemaOf('CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b))');
    const d = await discoverMutationPoints(
      [
        { sql: 'UPDATE t SET c = 1 WHERE a = $1 AND b = $2 AND c = 0', count: 2 },
        { sql: 'INSERT INTO t VALUES ($1, $2, 0) ON CONFLICT (a, b) DO UPDATE SET c = $3', count: 1 },
      ],
      { schema },
    );
    expect(d.points.map((p) => [p.operator, p.clause, p.example.mutant])).toEqual([
      ['drop-update-predicate', 'c = 0', 'UPDATE t SET c = 1 WHERE a = $1 AND b = $2'],
    ]);
    expect(d.refused.map((p) => [p.operator, p.reason])).toEqual([
      ['drop-on-conflict', 'removing it would remove parameter $3, which the client binds'],
    ]);
  });

  test('operators can be chosen; an unknown one is a usage error naming the operators', async () => {
    const seen = [{ sql: 'SELECT pg_advisory_xact_lock(1) FROM jobs FOR UPDATE', count: 1 }];
    const d = await discoverMutationPoints(seen, { operators: ['no-advisory-lock'] });
    expect(d.points.map((p) => p.operator)).toEqual(['no-advisory-lock']);
    await expect(discoverMutationPoints(seen, { operators: ['drop-lock' as never] })).rejects.toMatchObject({
      code: 'USAGE',
      hint: expect.stringContaining('drop-row-lock'),
    });
  });
});
