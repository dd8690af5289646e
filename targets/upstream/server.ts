/**
 * upstream — a fake payment provider, the dependency the `checkout` target calls.
 *
 *   POST /charge            → 200 {ok: true} after LATENCY_MS (± JITTER_MS) of "card network" time
 *   GET  /__arrivals        → every request it saw: [{atMs, clientId, attempt, path}] (ms since it started)
 *   DELETE /__arrivals      → forget them
 *   GET  /health            → 200
 *
 * Its normal latency matters for the herd: with 500 ms per call and a
 * few hundred calls a second, hundreds are in flight when an outage begins, and an outage that fails
 * everything in flight at once synchronizes the callers' retry clocks.
 *
 * Outages are not this process's job: whatbreaks puts an HTTP fault proxy in front of it and the
 * scenario's timeline answers 503 there (`upstream-down`). So the proxy's request records, not this
 * list, are the arrivals whatbreaks judges: during an outage the calls stop at the proxy and never
 * reach this process. `/__arrivals` is for running the stub on its own.
 *
 * Env: PORT (default 3100), HOST (127.0.0.1), LATENCY_MS (500), JITTER_MS (0), and the headers it reads:
 * `x-client-id` (who is calling) and `x-attempt` (1 for a first try, 2 for the first retry, …).
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const LATENCY_MS = Number(process.env.LATENCY_MS ?? 500);
const JITTER_MS = Number(process.env.JITTER_MS ?? 0);
const t0 = performance.now();

interface Arrival {
  /** ms since this process started. */
  atMs: number;
  clientId: string | null;
  attempt: number | null;
  path: string;
}
let arrivals: Arrival[] = [];

function header(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  const json = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  if (url === '/health') return json(200, { ok: true });
  if (url === '/__arrivals') {
    if (req.method === 'DELETE') arrivals = [];
    return json(200, arrivals);
  }
  const attempt = header(req.headers['x-attempt']);
  arrivals.push({
    atMs: Math.round((performance.now() - t0) * 1000) / 1000,
    clientId: header(req.headers['x-client-id']),
    attempt: attempt === null ? null : Number(attempt),
    path: url,
  });
  req.resume();
  req.once('end', () => {
    const delay = Math.max(0, LATENCY_MS + (JITTER_MS ? (Math.random() * 2 - 1) * JITTER_MS : 0));
    setTimeout(() => json(200, { ok: true, charged: true }), delay);
  });
});
server.keepAliveTimeout = 65_000;
const port = Number(process.env.PORT ?? 3100);
const host = process.env.HOST ?? '127.0.0.1';
server.listen(port, host, () => {
  const bound = (server.address() as { port: number }).port;
  console.log(`upstream listening on ${host}:${bound} (latency ${LATENCY_MS} ms)`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
