/**
 * checkout — takes an order and charges it at a payment provider (`UPSTREAM_URL`, the `upstream` stub
 * behind whatbreaks' fault proxy). Two endpoints, two production bugs, one `VARIANT`:
 *
 *   POST /api/checkout  → 200 {ok, attempts} | 502 {error, attempts}
 *     Charges with retries (`retry.ts`). buggy: exponential backoff 1 s·2^n without jitter, 5 retries —
 *     callers that failed together retry together (thundering herd). fixed: full jitter, capped at
 *     `RETRY_CAP_MS`, 3 retries. No database.
 *
 *   POST /api/orders    → 201 {order_id} | 502 (payment failed) | 503 (no database connection in time)
 *     Inserts an order, charges it once (no retries), marks it paid. buggy: one transaction holds a
 *     pool connection across the payment call, so a slow provider drains the pool (pool exhaustion);
 *     fixed: the connection goes back to the pool before the call and is taken again after it.
 *
 * Env: UPSTREAM_URL, DATABASE_URL, POOL_MAX (10), POOL_TIMEOUT_MS (2000: waiting longer for a pool
 * connection answers 503), RETRY_BASE_MS (1000), RETRY_CAP_MS (4000), UPSTREAM_TIMEOUT_MS (10000).
 * The caller's `x-client-id` is passed on, with `x-attempt` (1, 2, …) so the provider's arrivals say
 * which calls were retries.
 */
import pg from 'pg';
import { Agent, request } from 'undici';
import { type Reply, type Request, serve, variant } from '../lib/http.js';
import { type RetryPolicy, withRetries } from './retry.js';

const UPSTREAM_URL = process.env.UPSTREAM_URL;
if (!UPSTREAM_URL) throw new Error('UPSTREAM_URL is not set (the payment provider)');
const UPSTREAM_TIMEOUT_MS = Number(process.env.UPSTREAM_TIMEOUT_MS ?? 10_000);
const fixed = variant() === 'fixed';
const base = Number(process.env.RETRY_BASE_MS ?? 1000);
const policy: RetryPolicy = fixed
  ? { kind: 'full-jitter', baseMs: base, capMs: Number(process.env.RETRY_CAP_MS ?? 4000), maxRetries: 3 }
  : { kind: 'exponential', baseMs: base, capMs: Number.POSITIVE_INFINITY, maxRetries: 5 };

// One keep-alive agent, no connection limit: the target itself must not smooth the bursts it makes.
const agent = new Agent({ keepAliveTimeout: 30_000, connections: null });

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.POOL_MAX ?? 10),
  connectionTimeoutMillis: Number(process.env.POOL_TIMEOUT_MS ?? 2000),
});
pool.on('error', (err) => console.error(`pool error: ${err.message}`));

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

/** One call to the provider; `status` 0 when it failed without an answer. */
async function charge(
  clientId: string | undefined,
  attempt: number,
): Promise<{ status: number; error?: string }> {
  try {
    const res = await request(new URL('/charge', UPSTREAM_URL), {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'content-type': 'application/json',
        'x-attempt': String(attempt),
        ...(clientId ? { 'x-client-id': clientId } : {}),
      },
      body: JSON.stringify({ amount: 4200 }),
      headersTimeout: UPSTREAM_TIMEOUT_MS,
      bodyTimeout: UPSTREAM_TIMEOUT_MS,
    });
    await res.body.dump();
    if (res.statusCode >= 500) logFailure(`provider answered ${res.statusCode}`);
    return { status: res.statusCode };
  } catch (err) {
    const error = (err as { code?: string }).code ?? (err as Error).message;
    logFailure(error);
    return { status: 0, error };
  }
}

/** The first failures of each second go to the log; a herd would otherwise flood it. */
let logged = 0;
let loggedSecond = 0;
function logFailure(what: string): void {
  const second = Math.floor(Date.now() / 1000);
  if (second !== loggedSecond) [loggedSecond, logged] = [second, 0];
  if (logged++ < 3) console.error(`${new Date().toISOString()} payment call failed: ${what}`);
}

async function checkout(req: Request): Promise<Reply> {
  const clientId = header(req, 'x-client-id');
  const { value, attempts } = await withRetries(policy, async (n) => {
    const r = await charge(clientId, n);
    // 5xx and no answer are worth retrying; 2xx and 4xx are final.
    return { done: r.status >= 200 && r.status < 500, value: r };
  });
  if (value.status >= 200 && value.status < 300) return { status: 200, body: { ok: true, attempts } };
  return {
    status: 502,
    body: { error: `payment failed: ${value.error ?? `provider answered ${value.status}`}`, attempts },
  };
}

function isPoolTimeout(err: unknown): boolean {
  return /timeout exceeded when trying to connect/i.test((err as Error).message ?? '');
}

async function order(req: Request): Promise<Reply> {
  const clientId = header(req, 'x-client-id');
  try {
    if (!fixed) {
      // The bug: the transaction (and its pool connection) stays open while the provider thinks.
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: string }>(
          "INSERT INTO orders (status) VALUES ('pending') RETURNING id",
        );
        const id = rows[0]!.id;
        const paid = await charge(clientId, 1);
        await client.query('UPDATE orders SET status = $2 WHERE id = $1', [
          id,
          paid.status === 200 ? 'paid' : 'failed',
        ]);
        await client.query('COMMIT');
        return paid.status === 200
          ? { status: 201, body: { order_id: Number(id) } }
          : { status: 502, body: { error: 'payment failed' } };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
    const { rows } = await pool.query<{ id: string }>(
      "INSERT INTO orders (status) VALUES ('pending') RETURNING id",
    );
    const id = rows[0]!.id;
    const paid = await charge(clientId, 1);
    await pool.query('UPDATE orders SET status = $2 WHERE id = $1', [
      id,
      paid.status === 200 ? 'paid' : 'failed',
    ]);
    return paid.status === 200
      ? { status: 201, body: { order_id: Number(id) } }
      : { status: 502, body: { error: 'payment failed' } };
  } catch (err) {
    if (isPoolTimeout(err)) return { status: 503, body: { error: 'no database connection available' } };
    throw err;
  }
}

await serve(
  `checkout (${policy.kind} retries)`,
  [
    { method: 'POST', path: '/api/checkout', handler: async (_p, _b, req) => checkout(req) },
    { method: 'POST', path: '/api/orders', handler: async (_p, _b, req) => order(req) },
  ],
  pool,
);
