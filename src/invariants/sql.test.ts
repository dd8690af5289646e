import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../test/postgres.js';
import type { Database } from '../env/types.js';
import { config, create } from './sql.js';

/**
 * The `sql` invariant against a real PostgreSQL (embedded, as a run starts it): the rows it returns are
 * the witnesses, a query that cannot run is `unknown` with the database's message.
 */
let pg: Awaited<ReturnType<typeof startPostgres>>;
let db: Database;

beforeAll(async () => {
  pg = await startPostgres();
  db = pg.db;
  await db.reset([
    'CREATE TABLE trucks (id int PRIMARY KEY, capacity_kg int NOT NULL)',
    'CREATE TABLE bookings (id serial PRIMARY KEY, truck_id int NOT NULL REFERENCES trucks, weight_kg int NOT NULL)',
    'INSERT INTO trucks VALUES (1, 1000), (2, 1000), (3, 500)',
  ]);
});
afterAll(() => pg?.stop());

const OVERBOOKED = `
  SELECT t.id AS truck, t.capacity_kg, sum(b.weight_kg)::int AS booked_kg, count(*) AS bookings
  FROM trucks t JOIN bookings b ON b.truck_id = t.id
  GROUP BY t.id HAVING sum(b.weight_kg) > t.capacity_kg ORDER BY t.id`;

async function check(block: { query: string; summary?: string }) {
  const inv = create(config.parse({ type: 'sql', name: 'no-overbooking', ...block }));
  return inv.check({
    trial: 1,
    db,
    load: { kind: 'burst', records: [], startedAtMs: 0, durationMs: 0, warnings: [] },
  });
}

/** Bookings of `kg` each on `truck`, `n` times. */
async function book(truck: number, kg: number, n: number) {
  await db.query('INSERT INTO bookings (truck_id, weight_kg) SELECT $1, $2 FROM generate_series(1, $3)', [
    truck,
    kg,
    n,
  ]);
}

describe('sql', () => {
  it('holds when the query returns no row', async () => {
    await db.query('TRUNCATE bookings');
    await book(1, 10, 100);
    const r = await check({ query: OVERBOOKED });
    expect(r).toMatchObject({ holds: true, summary: 'no violating rows', witnesses: [], witnessCount: 0 });
  });

  it('every row is a witness, as the database returned it; the summary fills the template', async () => {
    await db.query('TRUNCATE bookings');
    await book(1, 10, 101);
    await book(3, 250, 3);
    const r = await check({
      query: OVERBOOKED,
      summary: 'truck {{truck}} booked {{ booked_kg }} kg of {{capacity_kg}} kg',
    });
    expect(r.holds).toBe(false);
    expect(r.summary).toBe(
      '2 violating rows: truck 1 booked 1010 kg of 1000 kg; truck 3 booked 750 kg of 500 kg',
    );
    // count(*) is a bigint: node-postgres gives it as a string, and the witness keeps it so.
    expect(r.witnesses).toEqual([
      { truck: 1, capacity_kg: 1000, booked_kg: 1010, bookings: '101' },
      { truck: 3, capacity_kg: 500, booked_kg: 750, bookings: '3' },
    ]);
    expect(r.witnessCount).toBe(2);
  });

  it('a summary placeholder that names no column stays as written and the summary says so', async () => {
    const r = await check({
      query: 'SELECT 1 AS truck, 2 AS booked_kg',
      summary: 'truck {{truk}}: {{booked_kg}} kg',
    });
    expect(r.holds).toBe(false);
    expect(r.summary).toBe(
      '1 violating row: truck {{truk}}: 2 kg [summary: no column truk in the rows; columns: truck, booked_kg]',
    );
  });

  it('without a template a row is shown as JSON; past three rows the summary counts the rest', async () => {
    const r = await check({ query: 'SELECT g AS n FROM generate_series(1, 5) g' });
    expect(r.summary).toBe('5 violating rows: {"n":1}; {"n":2}; {"n":3} (+2 more)');
    const one = await check({ query: 'SELECT 1 AS n' });
    expect(one.summary).toBe('1 violating row: {"n":1}');
  });

  it('keeps at most 100 witnesses and counts all of them', async () => {
    const r = await check({ query: 'SELECT g AS n FROM generate_series(1, 250) g' });
    expect(r.holds).toBe(false);
    expect(r.witnesses).toHaveLength(100);
    expect(r.witnesses[99]).toEqual({ n: 100 });
    expect(r.witnessCount).toBe(250);
  });

  it.each([
    ['a missing table', 'SELECT * FROM overbookings', /query failed: relation "overbookings" does not exist/],
    ['a syntax error', 'SELEC 1', /query failed: syntax error at or near "SELEC"/],
    [
      'an error while it runs',
      'SELECT 1 / (count(*) - count(*)) FROM trucks',
      /query failed: division by zero/,
    ],
  ])(
    'a query that fails (%s) is unknown with the database message, never a pass',
    async (_what, query, message) => {
      const r = await check({ query });
      expect(r.holds).toBe('unknown');
      expect(r.summary).toMatch(message);
      expect(r.witnesses).toEqual([]);
    },
  );

  it('more than one statement is unknown (only one result can be judged), not a crash', async () => {
    const r = await check({ query: 'SELECT 1 AS n; SELECT 2 AS n' });
    expect(r.holds).toBe('unknown');
    expect(r.summary).toMatch(/one statement/);
  });
});
