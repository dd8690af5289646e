/**
 * payments — charges an order.
 *
 *   POST /api/payments {order_id, amount}  [Idempotency-Key: <key>]
 *     → 201 {charge_id, order_id, amount}  (a replay of a key: the first answer again, `idempotent-replayed: true`)
 *     → 422 when a key is reused with a different request
 *
 * Clients retry: after a timeout, a reset connection, a 502 from the load balancer; queues redeliver.
 * VARIANT=buggy: the `Idempotency-Key` header is ignored — every delivery charges the card again.
 * VARIANT=fixed: the key is honoured (Stripe's semantics): in one transaction, the key is inserted under
 * a unique constraint first; a concurrent copy blocks on that insert until the first commits, then
 * finds the key taken and answers with the stored response. A request without a key is not protected.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { createPool, type Reply, type Request, serve, variant } from '../lib/http.js';

/** The card network's latency, ms. */
const CHARGE_MS = Number(process.env.CHARGE_MS ?? 50);
const INSTANCE = process.env.INSTANCE_ID ?? '0';

interface PaymentRequest {
  order_id: string | number;
  amount: number;
}

function parse(body: unknown): PaymentRequest | undefined {
  const b = body as Partial<PaymentRequest> | undefined;
  if (!b || b.order_id === undefined || !Number.isInteger(b.amount)) return undefined;
  return b as PaymentRequest;
}

async function charge(
  db: pg.Pool | pg.PoolClient,
  r: PaymentRequest,
  key: string | undefined,
): Promise<Reply> {
  await sleep(CHARGE_MS);
  const { rows } = await db.query<{ id: string }>(
    'INSERT INTO charges (order_id, amount, idempotency_key, instance) VALUES ($1, $2, $3, $4) RETURNING id',
    [String(r.order_id), r.amount, key ?? null, INSTANCE],
  );
  return {
    status: 201,
    body: { charge_id: Number(rows[0]!.id), order_id: String(r.order_id), amount: r.amount },
  };
}

async function payFixed(pool: pg.Pool, r: PaymentRequest, key: string | undefined): Promise<Reply> {
  if (!key) return charge(pool, r, undefined);
  const hash = createHash('sha256')
    .update(JSON.stringify([String(r.order_id), r.amount]))
    .digest('hex');
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const mine = await client.query(
      'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key',
      [key, hash],
    );
    if (mine.rowCount === 0) {
      await client.query('ROLLBACK');
      const { rows } = await pool.query<{ request_hash: string; status: number; response: unknown }>(
        'SELECT request_hash, status, response FROM idempotency_keys WHERE key = $1',
        [key],
      );
      const prior = rows[0];
      if (!prior)
        return { status: 409, body: { error: 'a request with this key is being retried; try again' } };
      if (prior.request_hash !== hash)
        return { status: 422, body: { error: 'Idempotency-Key reused with a different request' } };
      return { status: prior.status, body: { ...(prior.response as object), replayed: true } };
    }
    const reply = await charge(client, r, key);
    await client.query('UPDATE idempotency_keys SET status = $2, response = $3 WHERE key = $1', [
      key,
      reply.status,
      JSON.stringify(reply.body),
    ]);
    await client.query('COMMIT');
    return reply;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

function keyOf(req: Request): string | undefined {
  const k = req.headers['idempotency-key'];
  return (Array.isArray(k) ? k[0] : k) || undefined;
}

const pool = createPool();
const fixed = variant() === 'fixed';

await serve(
  `payments instance ${INSTANCE}`,
  [
    {
      method: 'POST',
      path: '/api/payments',
      handler: async (_params, body, req) => {
        const r = parse(body);
        if (!r) return { status: 400, body: { error: 'need order_id and an integer amount' } };
        return fixed ? payFixed(pool, r, keyOf(req)) : charge(pool, r, keyOf(req));
      },
    },
  ],
  pool,
);
