/**
 * booking — books shipments onto trucks with a weight capacity.
 *
 *   POST /api/bookings {shipment_id, truck_id, weight_kg} → 201 {booking_id} | 409 {error: 'no capacity'}
 *
 * VARIANT=buggy: the capacity check locks the truck row, but in a transaction of its own that commits
 * before the new total is written. Concurrent requests all read the same `booked_kg`, all pass the check,
 * and each writes its own total (lost update): the truck is double-booked.
 * VARIANT=fixed: read, check and write in one transaction holding `SELECT … FOR UPDATE` until commit.
 * VARIANT=mutex: the buggy handler behind an in-process lock per truck — the fix that passes review and a
 * single-instance test, and double-books as soon as two replicas serve the same truck.
 */
import type pg from 'pg';
import { createPool, type Reply, serve, variant } from '../lib/http.js';

interface BookingRequest {
  shipment_id: string | number;
  truck_id: number;
  weight_kg: number;
}

function parse(body: unknown): BookingRequest | undefined {
  const b = body as Partial<BookingRequest> | undefined;
  if (!b || b.shipment_id === undefined || !Number.isInteger(b.truck_id) || !Number.isInteger(b.weight_kg)) {
    return undefined;
  }
  return b as BookingRequest;
}

async function bookBuggy(pool: pg.Pool, r: BookingRequest): Promise<Reply> {
  const client = await pool.connect();
  try {
    // "Lock the truck while we check capacity" — but the lock ends with this transaction.
    await client.query('BEGIN');
    const { rows } = await client.query<{ capacity_kg: number; booked_kg: number }>(
      'SELECT capacity_kg, booked_kg FROM trucks WHERE id = $1 FOR UPDATE',
      [r.truck_id],
    );
    await client.query('COMMIT');
    const truck = rows[0];
    if (!truck) return { status: 404, body: { error: 'unknown truck' } };
    if (truck.booked_kg + r.weight_kg > truck.capacity_kg) {
      return { status: 409, body: { error: 'no capacity' } };
    }
    const { rows: inserted } = await client.query<{ id: string }>(
      'INSERT INTO bookings (shipment_id, truck_id, weight_kg) VALUES ($1, $2, $3) RETURNING id',
      [String(r.shipment_id), r.truck_id, r.weight_kg],
    );
    await client.query('UPDATE trucks SET booked_kg = $2 WHERE id = $1', [
      r.truck_id,
      truck.booked_kg + r.weight_kg,
    ]);
    return { status: 201, body: { booking_id: Number(inserted[0]!.id) } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function bookFixed(pool: pg.Pool, r: BookingRequest): Promise<Reply> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ capacity_kg: number; booked_kg: number }>(
      'SELECT capacity_kg, booked_kg FROM trucks WHERE id = $1 FOR UPDATE',
      [r.truck_id],
    );
    const truck = rows[0];
    if (!truck) {
      await client.query('ROLLBACK');
      return { status: 404, body: { error: 'unknown truck' } };
    }
    if (truck.booked_kg + r.weight_kg > truck.capacity_kg) {
      await client.query('ROLLBACK');
      return { status: 409, body: { error: 'no capacity' } };
    }
    const { rows: inserted } = await client.query<{ id: string }>(
      'INSERT INTO bookings (shipment_id, truck_id, weight_kg) VALUES ($1, $2, $3) RETURNING id',
      [String(r.shipment_id), r.truck_id, r.weight_kg],
    );
    await client.query('UPDATE trucks SET booked_kg = booked_kg + $2 WHERE id = $1', [
      r.truck_id,
      r.weight_kg,
    ]);
    await client.query('COMMIT');
    return { status: 201, body: { booking_id: Number(inserted[0]!.id) } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** In-process lock per truck: each caller waits for the previous one's promise to settle. */
const truckLocks = new Map<number, Promise<unknown>>();
function withTruckLock<T>(truckId: number, fn: () => Promise<T>): Promise<T> {
  const run = (truckLocks.get(truckId) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => undefined);
  truckLocks.set(truckId, settled);
  void settled.then(() => {
    if (truckLocks.get(truckId) === settled) truckLocks.delete(truckId);
  });
  return run;
}

const pool = createPool();
const which = variant(['buggy', 'fixed', 'mutex']);
const book =
  which === 'fixed'
    ? bookFixed
    : which === 'mutex'
      ? (p: pg.Pool, r: BookingRequest) => withTruckLock(r.truck_id, () => bookBuggy(p, r))
      : bookBuggy;

await serve(
  'booking',
  [
    {
      method: 'POST',
      path: '/api/bookings',
      handler: async (_params, body) => {
        const r = parse(body);
        if (!r) return { status: 400, body: { error: 'shipment_id, truck_id and weight_kg are required' } };
        return book(pool, r);
      },
    },
  ],
  pool,
);
