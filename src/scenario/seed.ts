import pg from 'pg';
import { z } from 'zod';
import { OWN_SESSION_OPTIONS } from '../env/postgres-database.js';

/**
 * Large seeding: tables of millions of rows generated inside PostgreSQL, once per run.
 *
 * ```yaml
 * database:
 *   generate:
 *     schema: ../targets/export/schema.sql     # CREATE TABLE export_rows (…), run once per run
 *     tables:
 *       - table: export_rows
 *         rows: 2000000
 *         # one row per i = 1..rows: SQL expressions in the table's column order
 *         values: "i, 'customer-' || (i % 5000), (i * 7919) % 100000, timestamptz '2024-01-01' + i * interval '1 s'"
 * ```
 *
 * How: `INSERT INTO t SELECT <values> FROM generate_series(lo, hi) AS g(i)` in batches of
 * `BATCH_ROWS`, so the data never crosses the wire (2,000,000 rows of four columns take a few seconds
 * on a laptop; measured here in bench/RESULTS.md) and a progress bar can follow it; then `ANALYZE`.
 *
 * Why once per run, and why a schema of its own: every trial starts from a fresh `public` schema
 * (`PostgresDatabase.reset` drops and recreates it), and regenerating millions of rows per trial would
 * cost seconds each time. A template database cloned per trial (`CREATE DATABASE … TEMPLATE`) would
 * also give fresh data, but it must drop the database the target is connected to, so every target
 * connection would be cut between trials — a fault of its own that we do not want in a memory or
 * latency scenario. Instead the generated tables live in the schema `GENERATED_SCHEMA`, which the
 * per-trial reset does not touch; the database's `search_path` is set to `public, whatbreaks_generated`
 * before the target (or our own pool) first connects, so the target's unqualified `SELECT … FROM
 * export_rows` finds them; and a statement trigger makes them read-only (any INSERT/UPDATE/DELETE/
 * TRUNCATE fails with "generated once per run, read-only"), so no trial can leave a mark on the next.
 * The price: scenarios that must write to their big table need a per-trial copy in `public`
 * (e.g. `setup: CREATE TABLE t AS SELECT * FROM whatbreaks_generated.t`), which is explicit and slow
 * on purpose.
 */
export const GENERATED_SCHEMA = 'whatbreaks_generated';

/** Rows per INSERT … SELECT batch (one progress step). */
export const BATCH_ROWS = 100_000;

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier');

export const generateTableSchema = z.strictObject({
  table: identifier.meta({ description: 'Table to fill; must exist after `schema` ran.' }),
  rows: z.int().min(1).max(1_000_000_000).meta({ description: 'Number of rows, i = 1..rows.' }),
  values: z.string().min(1).meta({
    description: "SQL expressions of `i` (bigint, 1-based), in the table's column order, comma-separated.",
  }),
});

export const generateSchema = z.strictObject({
  schema: z
    .union([z.string().min(1), z.array(z.string().min(1))])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .meta({
      description:
        'SQL file(s) creating the generated tables, relative to the scenario file; run once per run.',
    }),
  tables: z.array(generateTableSchema).min(1).meta({ description: 'The tables to fill (below).' }),
});
export type GenerateConfig = z.output<typeof generateSchema>;

/** Progress of a generation: rows done of rows total, for one table. */
export type SeedProgress = (p: { table: string; doneRows: number; totalRows: number }) => void;

export interface SeedOutcome {
  rows: number;
  durationMs: number;
}

/**
 * Create `GENERATED_SCHEMA`, run the schema SQL in it, fill each table, make the tables read-only,
 * `ANALYZE`, and point the database's default `search_path` at it. Call before anything else connects
 * (sessions opened earlier keep the old `search_path`).
 *
 * @param schemaSql contents of the `schema` files, in order.
 */
export async function generateRows(
  databaseUrl: string,
  cfg: GenerateConfig,
  schemaSql: readonly string[],
  onProgress: SeedProgress = () => {},
): Promise<SeedOutcome> {
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl, options: OWN_SESSION_OPTIONS });
  await client.connect();
  let rows = 0;
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${GENERATED_SCHEMA} CASCADE`);
    await client.query(`CREATE SCHEMA ${GENERATED_SCHEMA}`);
    await client.query(`SET search_path = ${GENERATED_SCHEMA}`);
    for (const text of schemaSql) await client.query(text);
    for (const t of cfg.tables) {
      // No WAL for a table rebuilt every run from a formula: about a third faster to fill.
      await client.query(`ALTER TABLE ${t.table} SET UNLOGGED`);
      onProgress({ table: t.table, doneRows: 0, totalRows: t.rows });
      for (let lo = 1; lo <= t.rows; lo += BATCH_ROWS) {
        const hi = Math.min(t.rows, lo + BATCH_ROWS - 1);
        await client.query(
          `INSERT INTO ${t.table} SELECT ${t.values} FROM generate_series($1::bigint, $2::bigint) AS g(i)`,
          [lo, hi],
        );
        onProgress({ table: t.table, doneRows: hi, totalRows: t.rows });
      }
      rows += t.rows;
      await client.query(`ANALYZE ${t.table}`);
    }
    await client.query(`
      CREATE FUNCTION ${GENERATED_SCHEMA}.read_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '%.% is generated once per run and read-only', TG_TABLE_SCHEMA, TG_TABLE_NAME;
      END $$`);
    for (const t of cfg.tables) {
      await client.query(
        `CREATE TRIGGER read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t.table}
         FOR EACH STATEMENT EXECUTE FUNCTION ${GENERATED_SCHEMA}.read_only()`,
      );
    }
    await client.query(
      `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = public, ${GENERATED_SCHEMA}', current_database()); END $$`,
    );
  } finally {
    await client.end();
  }
  return { rows, durationMs: performance.now() - t0 };
}
