import { describe, expect, test } from 'vitest';
import { discoverMutationPoints } from '../src/mutate/discover.js';
import { discoverConstraintPoints } from '../src/mutate/schema-mutants.js';
import { corpus } from './fixtures/sql-corpus.js';

/**
 * Item 3 of issue 17: the mutation points of the statements the example targets really send (the
 * corpus in fixtures/sql-corpus.ts), with the schema each scenario applies. This is the table a
 * discovery run would show for each target; `mutate-postgres.test.ts` checks that every mutant here is
 * valid SQL on a real PostgreSQL.
 */
async function pointsOf(name: string) {
  const t = corpus.find((c) => c.name === name)!;
  const schema = await discoverConstraintPoints(t.schema, t.statements);
  const d = await discoverMutationPoints(
    t.statements.map((sql) => ({ sql, count: 1 })),
    { schema: schema.schema },
  );
  expect(d.unparsed).toEqual([]);
  expect(d.refused).toEqual([]);
  return {
    statements: d.points.map((p) => `${p.operator}: ${p.clause}`),
    constraints: schema.points.map((p) => p.id),
    notMutable: schema.refused.map((p) => `${p.constraint}: ${p.reason.split(':')[0]}`),
  };
}

const SERIAL = 'the database fills in its columns (serial, identity or DEFAULT)';

describe('mutation points of the example targets', () => {
  test('jobs (node-postgres) and py-jobs (psycopg2): the row lock; the unique status history and the CHECK', async () => {
    const want = {
      statements: ['drop-row-lock: FOR UPDATE'],
      constraints: [
        'drop-constraint@jobs_status_check',
        'drop-constraint@job_status_history_job_id_status_key',
      ],
      notMutable: [
        'jobs_pkey: foreign key job_status_history_job_id_fkey (job_status_history) references it',
        `job_status_history_pkey: ${SERIAL}`,
        `notifications_pkey: ${SERIAL}`,
      ],
    };
    expect(await pointsOf('jobs')).toEqual(want);
    expect(await pointsOf('py-jobs')).toEqual(want);
  });

  test('booking: the truck row lock; the CHECKs', async () => {
    expect(await pointsOf('booking')).toEqual({
      statements: ['drop-row-lock: FOR UPDATE'],
      constraints: ['drop-constraint@trucks_capacity_kg_check', 'drop-constraint@bookings_weight_kg_check'],
      notMutable: [
        'trucks_pkey: foreign key bookings_truck_id_fkey (bookings) references it',
        `bookings_pkey: ${SERIAL}`,
      ],
    });
  });

  test('scheduler: the claim upsert and the fencing-token guard; the claim key is the upsert’s arbiter', async () => {
    expect(await pointsOf('scheduler')).toEqual({
      statements: [
        'drop-on-conflict: ON CONFLICT (task, tick) DO UPDATE SET instance = excluded.instance, token = excluded.token, lease_until = excluded.lease_until, claims = task_claims.claims + 1 WHERE task_claims.done_at IS NULL AND task_claims.lease_until < clock_timestamp()',
        'drop-update-predicate: token = $3 AND done_at IS NULL',
      ],
      constraints: [],
      notMutable: [
        `task_executions_pkey: ${SERIAL}`,
        'task_claims_pkey: the ON CONFLICT of `INSERT INTO task_claims (task, tick, instance, token, lease_until) SELECT $1, t, $2, $3, clock_timestamp() + make_interval(secs => $4',
      ],
    });
  });

  test('payments: the idempotency-key upsert (its key is the arbiter)', async () => {
    expect(await pointsOf('payments')).toEqual({
      statements: ['drop-on-conflict: ON CONFLICT (key) DO NOTHING'],
      constraints: [],
      notMutable: [
        `charges_pkey: ${SERIAL}`,
        'idempotency_keys_pkey: the ON CONFLICT of `INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key` names it as its arbiter',
      ],
    });
  });

  test('checkout and export: no statement protection', async () => {
    expect((await pointsOf('checkout')).statements).toEqual([]);
    expect(await pointsOf('export')).toEqual({
      statements: [],
      constraints: ['drop-constraint@export_rows_pkey'],
      notMutable: [],
    });
  });

  test('py-tickets: the conditional update checked by rowcount (both executions are one point)', async () => {
    expect(await pointsOf('py-tickets')).toEqual({
      statements: ['drop-update-predicate: sold < capacity'],
      constraints: ['drop-constraint@events_capacity_check'],
      notMutable: [
        'events_pkey: foreign key tickets_event_id_fkey (tickets) references it',
        `tickets_pkey: ${SERIAL}`,
      ],
    });
  });

  test('Django on psycopg2: isolation settings, select_for_update, F()-guarded updates, ignore_conflicts, pglocks', async () => {
    expect(await pointsOf('django')).toEqual({
      statements: [
        "lower-isolation: default_transaction_isolation = 'serializable'",
        'lower-isolation: ISOLATION LEVEL REPEATABLE READ',
        'lower-isolation: ISOLATION LEVEL SERIALIZABLE',
        'drop-row-lock: FOR UPDATE SKIP LOCKED',
        'drop-row-lock: FOR NO KEY UPDATE',
        "drop-update-predicate: shop_job.status = 'queued'",
        'drop-update-predicate: shop_coupon.uses > 0',
        'drop-on-conflict: ON CONFLICT DO NOTHING',
        'no-advisory-lock: pg_advisory_xact_lock(4242)',
        'no-advisory-lock: pg_try_advisory_lock(1, 7)',
      ],
      constraints: [
        'drop-constraint@shop_coupon_code_key',
        'drop-constraint@shop_coupon_uses_check',
        'drop-constraint@shop_redemption_one_per_user',
      ],
      notMutable: [
        `shop_job_pkey: ${SERIAL}`,
        `shop_coupon_pkey: ${SERIAL}`,
        `shop_redemption_pkey: ${SERIAL}`,
      ],
    });
  });
});
