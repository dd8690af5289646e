/**
 * export — downloads every order as CSV.
 *
 *   GET /export.csv → 200 text/csv: a header line, then one line per row of `export_rows`, by id
 *
 * VARIANT=buggy: `fetchall()` — `SELECT *` loads every row into the process (one JS object per row),
 * builds the CSV, then writes it. Memory grows with the table: 2,000,000 rows take well over 1 GiB.
 * VARIANT=fixed: a server-side cursor (`pg-query-stream`, 1,000 rows per fetch) streams rows into the
 * response and waits for `drain` whenever `res.write()` returns false, so at most a few batches are in
 * memory whatever the table size, and a slow client slows the query instead of filling the heap.
 *
 * The JSON routes of the other targets go through `../lib/http.ts`'s `serve`; this one streams, so it
 * has its own small `node:http` server and shares only the pool and the variant switch.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type pg from 'pg';
import QueryStream from 'pg-query-stream';
import { createPool, variant } from '../lib/http.js';

interface Row {
  id: string;
  customer: string;
  amount_cents: string;
  created_at: Date;
}

const HEADER = 'id,customer,amount_cents,created_at\n';
const QUERY = 'SELECT id, customer, amount_cents, created_at FROM export_rows ORDER BY id';

function csvLine(r: Row): string {
  return `${r.id},${r.customer},${r.amount_cents},${r.created_at.toISOString()}\n`;
}

async function exportBuggy(pool: pg.Pool, res: ServerResponse): Promise<void> {
  const { rows } = await pool.query<Row>(QUERY);
  const lines = rows.map(csvLine);
  res.writeHead(200, { 'content-type': 'text/csv' });
  res.write(HEADER);
  for (const line of lines) res.write(line);
  res.end();
}

/** Backpressure: wait until the socket takes more, or the client went away. */
async function drainOrClose(res: ServerResponse): Promise<void> {
  const ac = new AbortController();
  await Promise.race([
    once(res, 'drain', { signal: ac.signal }),
    once(res, 'close', { signal: ac.signal }),
  ]).catch(() => undefined);
  ac.abort();
}

async function exportFixed(pool: pg.Pool, res: ServerResponse): Promise<void> {
  const client = await pool.connect();
  try {
    const stream = client.query(new QueryStream(QUERY, [], { batchSize: 1_000 }));
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.write(HEADER);
    let chunk = '';
    let n = 0;
    for await (const row of stream as AsyncIterable<Row>) {
      chunk += csvLine(row);
      if (++n % 1_000 !== 0) continue;
      if (!res.write(chunk)) await drainOrClose(res);
      chunk = '';
      if (res.destroyed) {
        stream.destroy();
        return;
      }
    }
    res.end(chunk);
  } finally {
    client.release();
  }
}

const pool = createPool();
const exportCsv = variant() === 'fixed' ? exportFixed : exportBuggy;

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://target').pathname;
  if (req.method === 'GET' && path === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, variant: variant() }));
    return;
  }
  if (req.method === 'GET' && path === '/export.csv') {
    exportCsv(pool, res).catch((err: Error) => {
      console.error(`500 GET /export.csv: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not found' }));
});
server.keepAliveTimeout = 65_000;
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
await new Promise<void>((resolve) => server.listen(port, host, resolve));
console.log(`export (${variant()}) listening on ${host}:${port}`);
const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
