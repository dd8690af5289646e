/**
 * scheduler — an app that runs periodic tasks in-process (node-cron, APScheduler, `@Scheduled`), every
 * second: `daily-summary-email` and `charge-pending-payments`. Tick = floor(epoch seconds); each
 * execution takes `TASK_WORK_MS` (default 100) and writes a ledger row `(task, tick, instance, executed_at)`.
 *
 *   GET /health, GET /api/scheduler → {instance, variant, executed}
 *
 * VARIANT=buggy: the guard is in-process only — a `running` set and the last tick run per task. Correct
 * with one replica; with two behind a load balancer, every task fires twice per tick.
 * VARIANT=fixed: a cluster-wide claim in PostgreSQL. Every `POLL_MS` each replica claims, in one
 * statement, the oldest (task, tick) of the last few seconds that nobody holds — or whose holder's lease
 * (`LEASE_MS`, default 2000) ran out before it finished — with `INSERT … ON CONFLICT DO UPDATE … WHERE
 * lease expired`, runs it, and claims the next until none is left. Exactly one replica gets each tick;
 * if it dies mid-task, a survivor takes the tick over once the lease has expired (see README: what "no
 * missed tick" means).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, serve, variant } from '../lib/http.js';

const TASKS = ['daily-summary-email', 'charge-pending-payments'] as const;
const INSTANCE = process.env.INSTANCE_ID ?? '0';
const WORK_MS = Number(process.env.TASK_WORK_MS ?? 100);
const POLL_MS = Number(process.env.POLL_MS ?? 200);
const LEASE_MS = Number(process.env.LEASE_MS ?? 2_000);
/** Ticks looked back for unclaimed or expired work: the lease plus a margin, s. */
const LOOKBACK_S = Math.ceil(LEASE_MS / 1_000) + 3;
const PROCESS_TOKEN = `${INSTANCE}:${process.pid}:${randomBytes(3).toString('hex')}`;

const pool = createPool();
let executed = 0;

function tickNow(): number {
  return Math.floor(Date.now() / 1_000);
}

/** The task's work (send the emails, charge the cards); here it takes WORK_MS. */
async function work(): Promise<void> {
  await sleep(WORK_MS);
}

async function record(task: string, tick: number): Promise<void> {
  await pool.query('INSERT INTO task_executions (task, tick, instance) VALUES ($1, $2, $3)', [
    task,
    tick,
    INSTANCE,
  ]);
  executed++;
}

function logError(what: string, err: unknown): void {
  // The database is reset between trials: a missing table for a moment must not stop the scheduler.
  console.error(`${what}: ${(err as Error).message}`);
}

/** Buggy: an in-process lock. Each replica has its own, so each replica runs every tick. */
function startBuggy(): void {
  const running = new Set<string>();
  const lastTick = new Map<string, number>();
  setInterval(() => {
    const tick = tickNow();
    for (const task of TASKS) {
      if (running.has(task) || lastTick.get(task) === tick) continue;
      running.add(task);
      lastTick.set(task, tick);
      void (async () => {
        try {
          await work();
          await record(task, tick);
        } catch (err) {
          logError(`${task} @ ${tick}`, err);
        } finally {
          running.delete(task);
        }
      })();
    }
  }, 100);
}

let claimNumber = 0;

/**
 * Claim the oldest (task, tick) in [from, to] that is free or whose lease expired unfinished; returns
 * the tick won, or undefined. One tick at a time: a replica that claimed several ticks at once would
 * still hold the later ones' leases while working through the earlier ones, let them expire, and have
 * them taken over and run twice (it did, with 900 ms tasks, after every database reset).
 */
async function claim(task: string, from: number, to: number, token: string): Promise<number | undefined> {
  const { rows } = await pool.query<{ tick: string }>(
    `INSERT INTO task_claims (task, tick, instance, token, lease_until)
     SELECT $1, t, $2, $3, clock_timestamp() + make_interval(secs => $4::float8 / 1000)
     FROM generate_series($5::bigint, $6::bigint) AS t
     WHERE NOT EXISTS (
       SELECT 1 FROM task_claims c
       WHERE c.task = $1 AND c.tick = t AND (c.done_at IS NOT NULL OR c.lease_until >= clock_timestamp()))
     ORDER BY t
     LIMIT 1
     ON CONFLICT (task, tick) DO UPDATE
       SET instance = EXCLUDED.instance, token = EXCLUDED.token, lease_until = EXCLUDED.lease_until,
           claims = task_claims.claims + 1
       WHERE task_claims.done_at IS NULL AND task_claims.lease_until < clock_timestamp()
     RETURNING tick`,
    [task, INSTANCE, token, LEASE_MS, from, to],
  );
  return rows[0] ? Number(rows[0].tick) : undefined;
}

/** Record the execution only if the claim is still ours (fencing token), in one transaction. */
async function complete(task: string, tick: number, token: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const done = await client.query(
      'UPDATE task_claims SET done_at = clock_timestamp() WHERE task = $1 AND tick = $2 AND token = $3 AND done_at IS NULL',
      [task, tick, token],
    );
    if (done.rowCount === 1) {
      await client.query('INSERT INTO task_executions (task, tick, instance) VALUES ($1, $2, $3)', [
        task,
        tick,
        INSTANCE,
      ]);
      executed++;
    } else {
      console.error(`${task} @ ${tick}: lost the claim (lease expired and taken over); not recorded`);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Fixed: a cluster-wide claim with a lease in PostgreSQL; survivors take over expired claims. */
function startFixed(): void {
  const busy = new Set<string>();
  const loop = (task: string) => {
    if (busy.has(task)) return;
    busy.add(task);
    void (async () => {
      try {
        // Oldest claimable tick first, one at a time, until none is left.
        for (;;) {
          const now = tickNow();
          const token = `${PROCESS_TOKEN}:${++claimNumber}`;
          const tick = await claim(task, now - LOOKBACK_S, now, token);
          if (tick === undefined) break;
          await work();
          await complete(task, tick, token);
        }
      } catch (err) {
        logError(task, err);
      } finally {
        busy.delete(task);
      }
    })();
  };
  setInterval(() => {
    for (const task of TASKS) loop(task);
  }, POLL_MS);
}

if (variant() === 'fixed') startFixed();
else startBuggy();

await serve(
  `scheduler instance ${INSTANCE}`,
  [
    {
      method: 'GET',
      path: '/api/scheduler',
      handler: async () => ({ status: 200, body: { instance: INSTANCE, variant: variant(), executed } }),
    },
  ],
  pool,
);
