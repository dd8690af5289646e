/**
 * jobs — workers report a job as done.
 *
 *   POST /api/jobs/:id/complete {result} → 200 {status: 'completed'} | 409 {error: 'not in progress'}
 *
 * VARIANT=buggy: time-of-check to time-of-use. The handler reads the status, checks `in_progress`, then
 * marks the job completed, queues the customer notification and records the status change, each
 * statement on its own. Two requests a few ms apart both pass the check: both complete the job and queue
 * a notification, and the second one's history insert hits the unique (job_id, status) → 500.
 * VARIANT=fixed: the same steps in one transaction that holds the job row (`SELECT … FOR UPDATE`); the
 * loser sees `completed` after the winner commits and gets 409.
 * VARIANT=fixed-unique: the same transaction without the row lock: it relies on the schema alone. Two
 * requests both see `in_progress`; the second one's UPDATE waits for the first one's commit, then its
 * history insert hits the unique (job_id, status) — 23505 rolls its whole transaction back (its
 * notification too) and it answers 409, as the locked variant answers a late completer.
 */
import type pg from 'pg';
import { createPool, type Reply, serve, variant } from '../lib/http.js';

async function completeBuggy(pool: pg.Pool, jobId: number, result: string): Promise<Reply> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [jobId]);
  const job = rows[0];
  if (!job) return { status: 404, body: { error: 'unknown job' } };
  if (job.status !== 'in_progress') return { status: 409, body: { error: 'not in progress' } };
  await pool.query("UPDATE jobs SET status = 'completed', result = $2, completed_at = now() WHERE id = $1", [
    jobId,
    result,
  ]);
  await pool.query("INSERT INTO notifications (job_id, kind, result) VALUES ($1, 'job_completed', $2)", [
    jobId,
    result,
  ]);
  await pool.query("INSERT INTO job_status_history (job_id, status) VALUES ($1, 'completed')", [jobId]);
  return { status: 200, body: { status: 'completed' } };
}

/** The `unique_violation` SQLSTATE: the schema refused a second row for one key. */
const UNIQUE_VIOLATION = '23505';

async function completeInTransaction(
  pool: pg.Pool,
  jobId: number,
  result: string,
  rowLock: boolean,
): Promise<Reply> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ status: string }>(
      rowLock ? 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE' : 'SELECT status FROM jobs WHERE id = $1',
      [jobId],
    );
    const job = rows[0];
    if (job?.status !== 'in_progress') {
      await client.query('ROLLBACK');
      return job
        ? { status: 409, body: { error: 'not in progress' } }
        : { status: 404, body: { error: 'unknown job' } };
    }
    await client.query(
      "UPDATE jobs SET status = 'completed', result = $2, completed_at = now() WHERE id = $1",
      [jobId, result],
    );
    await client.query("INSERT INTO notifications (job_id, kind, result) VALUES ($1, 'job_completed', $2)", [
      jobId,
      result,
    ]);
    await client.query("INSERT INTO job_status_history (job_id, status) VALUES ($1, 'completed')", [jobId]);
    await client.query('COMMIT');
    return { status: 200, body: { status: 'completed' } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    // Without the row lock, the unique (job_id, status) is what stops a second completion.
    if (!rowLock && (err as { code?: string }).code === UNIQUE_VIOLATION)
      return { status: 409, body: { error: 'not in progress' } };
    throw err;
  } finally {
    client.release();
  }
}

const pool = createPool();
const which = variant(['buggy', 'fixed', 'fixed-unique']);
const complete =
  which === 'buggy'
    ? completeBuggy
    : (p: pg.Pool, id: number, r: string) => completeInTransaction(p, id, r, which === 'fixed');

await serve(
  'jobs',
  [
    {
      method: 'POST',
      path: '/api/jobs/:id/complete',
      handler: async (params, body) => {
        const jobId = Number(params.id);
        if (!Number.isInteger(jobId)) return { status: 400, body: { error: 'job id must be an integer' } };
        const result = String((body as { result?: unknown } | undefined)?.result ?? '');
        return complete(pool, jobId, result);
      },
    },
  ],
  pool,
);
