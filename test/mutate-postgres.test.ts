import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { discoverMutationPoints, type MutationPoint, rewriterFor } from '../src/mutate/discover.js';
import type { OperatorName } from '../src/mutate/operator.js';
import {
  constraintNames,
  discoverConstraintPoints,
  dropConstraint,
  type SchemaFile,
} from '../src/mutate/schema-mutants.js';
import { loadSqlParser, parseSql } from '../src/mutate/sql-parser.js';
import { corpus } from './fixtures/sql-corpus.js';
import { startPostgres } from './postgres.js';

/**
 * Every mutant of the corpus against a real PostgreSQL, on its target's schema: valid SQL, the same
 * parameter and result types as the statement it replaces, and the protection really gone.
 */
let server: Awaited<ReturnType<typeof startPostgres>>;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.db.url });
  await c.connect();
  clients.push(c);
  return c;
}

beforeAll(async () => {
  await loadSqlParser();
  server = await startPostgres();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
});

afterAll(async () => {
  await server?.stop();
});

async function applySchema(files: readonly SchemaFile[], seed?: string): Promise<void> {
  await server.db.reset([...files.map((f) => f.sql), ...(seed ? [seed] : [])]);
}

/** The statement's tree type (`SelectStmt`, `TransactionStmt`, …). */
function typeOf(sql: string): string {
  const p = parseSql(sql);
  if (!p.ok) throw new Error(p.error);
  return Object.keys(p.statements[0]!.node)[0]!;
}

const DML = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt']);

/** Parameter and result types PostgreSQL infers for a statement (PREPARE; pg_prepared_statements). */
async function typesOf(c: pg.Client, sql: string): Promise<{ params: string; results: string }> {
  await c.query(`PREPARE probe AS ${sql}`);
  const { rows } = await c.query(
    "SELECT parameter_types::text AS params, result_types::text AS results FROM pg_prepared_statements WHERE name = 'probe'",
  );
  await c.query('DEALLOCATE probe');
  return rows[0];
}

/** `transaction_isolation` in effect after running `sql` (in a transaction when it needs one). */
async function isolationAfter(c: pg.Client, sql: string): Promise<string> {
  const t = parseSql(sql);
  const node = t.ok ? (t.statements[0]!.node as { VariableSetStmt?: { name?: string } }) : {};
  const inTransaction = node.VariableSetStmt?.name === 'TRANSACTION';
  if (inTransaction) await c.query('BEGIN');
  await c.query(sql);
  const { rows } = await c.query('SHOW transaction_isolation');
  await c.query('ROLLBACK').catch(() => undefined);
  await c.query('RESET ALL');
  return rows[0].transaction_isolation;
}

describe('every mutant of the corpus is valid SQL on its target’s schema', () => {
  test.each(corpus.map((t) => t.name))('%s', async (name) => {
    const target = corpus.find((t) => t.name === name)!;
    await applySchema(target.schema, target.seed);
    const { schema } = await discoverConstraintPoints(target.schema, target.statements);
    const d = await discoverMutationPoints(
      target.statements.map((sql) => ({ sql, count: 1 })),
      { schema },
    );
    const c = await connect();
    let checked = 0;
    for (const point of d.points) {
      const original = point.example.sql;
      const r = rewriterFor(point, { schema }).rewrite(original);
      expect(r.changed, point.label).toBe(true);
      const mutant = r.changed ? r.sql : '';
      if (DML.has(typeOf(original))) {
        await c.query('BEGIN');
        // Same parameter types (what the client binds) and result types (what it reads).
        expect(await typesOf(c, mutant), point.label).toEqual(await typesOf(c, original));
        // Planned too: ON CONFLICT arbiters and the like are resolved by the planner, not by PREPARE.
        await c.query(`EXPLAIN (GENERIC_PLAN) ${mutant}`);
        await c.query('ROLLBACK');
      } else {
        expect(point.operator).toBe('lower-isolation');
        expect(await isolationAfter(c, original), point.label).toMatch(/^(serializable|repeatable read)$/);
        expect(await isolationAfter(c, mutant), point.label).toBe('read committed');
      }
      checked++;
    }
    expect(checked).toBe(d.points.length);
  });
});

/** The point of `operator` for `sql` (discovered alone) and the mutant of `sql`. */
async function mutantOf(sql: string, operator: OperatorName): Promise<{ point: MutationPoint; sql: string }> {
  const d = await discoverMutationPoints([{ sql, count: 1 }], { operators: [operator] });
  const point = d.points[0]!;
  const r = rewriterFor(point).rewrite(sql);
  if (!r.changed) throw new Error(`${operator}: ${sql} not rewritten (${r.why})`);
  return { point, sql: r.sql };
}

describe('each operator removes the protection (two sessions on a real PostgreSQL)', () => {
  test('drop-row-lock: the row is no longer locked; the same columns come back', async () => {
    const jobs = corpus.find((t) => t.name === 'jobs')!;
    await applySchema(jobs.schema, jobs.seed);
    const [a, b] = [await connect(), await connect()];
    const original = 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE';
    const { sql } = await mutantOf(original, 'drop-row-lock');
    const lockedBy = async (text: string) => {
      await a.query('BEGIN');
      const r = await a.query(text, [1]);
      const other = await b.query('SELECT 1 FROM jobs WHERE id = 1 FOR UPDATE NOWAIT').then(
        () => 'free',
        (err: { code?: string }) => err.code,
      );
      await a.query('ROLLBACK');
      return { rows: r.rows, fields: r.fields.map((f) => [f.name, f.dataTypeID]), other };
    };
    const before = await lockedBy(original);
    const after = await lockedBy(sql);
    expect(before.other).toBe('55P03'); // lock_not_available
    expect(after).toEqual({ ...before, other: 'free' });
  });

  test('no-advisory-lock: the lock is not taken; the client reads the same column, type and value', async () => {
    const [a, b] = [await connect(), await connect()];
    for (const original of ['SELECT pg_advisory_xact_lock($1)', 'SELECT pg_try_advisory_xact_lock($1)']) {
      const { sql } = await mutantOf(original, 'no-advisory-lock');
      const run = async (text: string) => {
        await a.query('BEGIN');
        const r = await a.query(text, [42]);
        const other = (await b.query('SELECT pg_try_advisory_xact_lock(42) AS got')).rows[0].got;
        await a.query('ROLLBACK');
        return { rows: r.rows, fields: r.fields.map((f) => [f.name, f.dataTypeID]), otherGotIt: other };
      };
      const before = await run(original);
      const after = await run(sql);
      expect(before.otherGotIt, original).toBe(false);
      expect(after, original).toEqual({ ...before, otherGotIt: true });
    }
    // A NULL key gives NULL, as the strict function does.
    const { sql } = await mutantOf('SELECT pg_try_advisory_lock($1, $2) AS got', 'no-advisory-lock');
    expect((await a.query(sql, [null, 1])).rows).toEqual([{ got: null }]);
    expect((await a.query('SELECT pg_try_advisory_lock($1, $2) AS got', [null, 1])).rows).toEqual([
      { got: null },
    ]);
  });

  test('drop-on-conflict: a duplicate key fails with unique_violation instead of being skipped', async () => {
    const payments = corpus.find((t) => t.name === 'payments')!;
    await applySchema(payments.schema);
    const a = await connect();
    const original =
      'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key';
    const { sql } = await mutantOf(original, 'drop-on-conflict');
    expect((await a.query(original, ['k1', 'h'])).rows).toEqual([{ key: 'k1' }]);
    expect((await a.query(original, ['k1', 'h'])).rowCount).toBe(0);
    expect((await a.query(sql, ['k2', 'h'])).rows).toEqual([{ key: 'k2' }]);
    await expect(a.query(sql, ['k2', 'h'])).rejects.toMatchObject({ code: '23505' });
  });

  test('drop-update-predicate: the update no longer re-checks the state: a sold-out event sells one more', async () => {
    const tickets = corpus.find((t) => t.name === 'py-tickets')!;
    await applySchema(tickets.schema, `${tickets.seed}\nUPDATE events SET sold = capacity;`);
    const a = await connect();
    const original = 'UPDATE events SET sold = sold + 1 WHERE id = 1 AND sold < capacity';
    const { sql } = await mutantOf(original, 'drop-update-predicate');
    expect((await a.query(original)).rowCount).toBe(0);
    expect((await a.query(sql)).rowCount).toBe(1);
    expect((await a.query('SELECT sold - capacity AS over FROM events WHERE id = 1')).rows).toEqual([
      { over: 1 },
    ]);
  });
});

describe('the worked example of docs/mutants.md, replayed with two sessions', () => {
  test('jobs fixed without its FOR UPDATE: the second completion hits the unique (job_id, status), rolls back its notification, and answers 500', async () => {
    const jobs = corpus.find((t) => t.name === 'jobs')!;
    await applySchema(jobs.schema, jobs.seed);
    const [a, b, watch] = [await connect(), await connect(), await connect()];
    const { sql: select } = await mutantOf(
      'SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
      'drop-row-lock',
    );
    const update = "UPDATE jobs SET status = 'completed', result = $2, completed_at = now() WHERE id = $1";
    const notify = "INSERT INTO notifications (job_id, kind, result) VALUES ($1, 'job_completed', $2)";
    const history = "INSERT INTO job_status_history (job_id, status) VALUES ($1, 'completed')";
    // Both requests read before either writes: without the lock neither waits.
    for (const c of [a, b]) {
      await c.query('BEGIN');
      expect((await c.query(select, [1])).rows).toEqual([{ status: 'in_progress' }]);
    }
    await a.query(update, [1, 'a']);
    const bPid = (await b.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const bUpdate = b.query(update, [1, 'b']);
    // B's UPDATE waits for A's row lock (the UPDATE's own); A finishes and commits.
    await expect
      .poll(async () => (await watch.query('SELECT pg_blocking_pids($1) AS p', [bPid])).rows[0].p.length)
      .toBe(1);
    await a.query(notify, [1, 'a']);
    await a.query(history, [1]);
    await a.query('COMMIT');
    // B re-checks `id = $1` only: it updates the completed job again, queues a notification, and fails.
    expect((await bUpdate).rowCount).toBe(1);
    await b.query(notify, [1, 'b']);
    await expect(b.query(history, [1])).rejects.toMatchObject({ code: '23505' });
    await b.query('ROLLBACK');
    // What the scenario's invariants see: one notification (the sql invariant holds), and a 500.
    const { rows } = await watch.query('SELECT count(*)::int AS n FROM notifications WHERE job_id = 1');
    expect(rows).toEqual([{ n: 1 }]);
  });
});

/** Constraint and unique-index names in the database's public schema (NOT NULL left out). */
async function catalogNames(c: pg.Client): Promise<string[]> {
  const { rows } = await c.query(`
    SELECT conname AS name FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace AND contype IN ('p', 'u', 'x', 'c', 'f')
    UNION
    SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE i.relnamespace = 'public'::regnamespace AND x.indisunique
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`);
  return rows.map((r) => r.name as string).sort();
}

describe('schema mutants on a real PostgreSQL', () => {
  test.each(corpus.filter((t) => t.name !== 'py-jobs').map((t) => t.name))(
    '%s: names are PostgreSQL’s; each mutant applies and lacks exactly its constraint',
    async (name) => {
      const target = corpus.find((t) => t.name === name)!;
      const c = await connect();
      await applySchema(target.schema, target.seed);
      const all = await catalogNames(c);
      expect(all).toEqual([...constraintNames(target.schema)].sort());
      const { points } = await discoverConstraintPoints(target.schema, target.statements);
      for (const p of points) {
        await applySchema(dropConstraint(target.schema, p.constraint), target.seed);
        expect(await catalogNames(c), p.id).toEqual(all.filter((n) => n !== p.constraint));
        if (p.kind === 'unique-index') {
          const { rows } = await c.query('SELECT indisunique FROM pg_index WHERE indexrelid = $1::regclass', [
            `"${p.constraint}"`,
          ]);
          expect(rows, p.id).toEqual([{ indisunique: false }]);
        }
      }
    },
  );

  test('every kind: default names match the catalog, and each mutant applies without its constraint', async () => {
    const schema: SchemaFile[] = [
      {
        path: 'kinds.sql',
        sql: `CREATE TABLE r (id int PRIMARY KEY, room int, during tstzrange, active bool, email text UNIQUE,
          EXCLUDE USING gist (during WITH &&) WHERE (active), CHECK (room > 0 AND id > 0));
        CREATE UNIQUE INDEX one_active ON r (room) WHERE active;
        CREATE UNIQUE INDEX ON r (lower(email));
        ALTER TABLE r ADD CONSTRAINT r_room_email UNIQUE (room, email), ADD CHECK (room < 1000);
        ALTER TABLE r ADD UNIQUE (during);
        CREATE TABLE s (r_id int REFERENCES r, n int CHECK (n > 0) CHECK (n < 9));
        CREATE TABLE ${'t'.repeat(40)} (${'c'.repeat(40)} int UNIQUE, ${'d'.repeat(50)} int UNIQUE);`,
      },
    ];
    const c = await connect();
    await applySchema(schema);
    const all = await catalogNames(c);
    expect(all).toEqual([...constraintNames(schema)].sort());
    const { points, refused } = await discoverConstraintPoints(schema);
    expect(refused.map((p) => p.constraint)).toEqual(['r_pkey']);
    for (const p of points) {
      await applySchema(dropConstraint(schema, p.constraint));
      // Default names of the others may shift (s_n_check1 becomes s_n_check): compare counts and kinds.
      const left = await catalogNames(c);
      expect(left.length, p.id).toBe(all.length - 1);
    }
  });
});
