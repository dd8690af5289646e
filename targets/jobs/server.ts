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

async function completeFixed(pool: pg.Pool, jobId: number, result: string): Promise<Reply> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ status: string }>(
      'SELECT status FROM jobs WHERE id = $1 FOR UPDATE',
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
    throw err;
  } finally {
    client.release();
  }
}

const pool = createPool();
const complete = variant() === 'fixed' ? completeFixed : completeBuggy;

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
