/**
 * The few lines every example target shares: a JSON HTTP server on `PORT` with `GET /health`, a pg pool
 * from `DATABASE_URL`, and a clean shutdown on SIGTERM. Targets stay plain `node:http` + `pg` so each one
 * reads like the service it imitates.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  createServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createNetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import pg from 'pg';

export interface Route {
  method: string;
  /** Path pattern; `:name` segments become params. */
  path: string;
  handler: (params: Record<string, string>, body: unknown, req: Request) => Promise<Reply>;
}

/** HTTP/1.1 or HTTP/2 (Node's compatibility API): handlers see the same shape. */
export type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export interface Reply {
  status: number;
  body: unknown;
}

/**
 * The variant this target runs, from `VARIANT` (default `buggy`).
 * @throws Error naming the allowed values when `VARIANT` is not one of `allowed`.
 */
export function variant<V extends string = 'buggy' | 'fixed'>(
  allowed: readonly V[] = ['buggy', 'fixed'] as readonly string[] as readonly V[],
): V {
  const v = process.env.VARIANT ?? 'buggy';
  if (!(allowed as readonly string[]).includes(v)) {
    throw new Error(`VARIANT must be ${allowed.join(', ')}; got '${v}'`);
  }
  return v as V;
}

/**
 * The target's pg pool: at most `POOL_MAX` (50) connections, of which `POOL_MIN` (5, at most `POOL_MAX`)
 * are opened before the server listens and kept open — refilled when one is removed — like a service that
 * has been taking traffic (HikariCP keeps `minimumIdle`, by default `maximumPoolSize`). `POOL_MIN=0` gives
 * pg's plain grow-on-demand pool. That one shrinks after every failed query (`pool.query` destroys the
 * client), so the next concurrent requests pay a new connection's setup (several ms) and a race a few ms
 * wide is missed: trials of a buggy target stop being independent of each other.
 */
export function createPool(): pg.Pool {
  const max = Number(process.env.POOL_MAX ?? 50);
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max,
    min: Math.min(max, Number(process.env.POOL_MIN ?? 5)),
  });
  // A backend killed under us (e.g. by a nemesis) must not crash the target.
  pool.on('error', (err) => console.error(`pool error: ${err.message}`));
  // pg-pool only keeps `min` idle clients from being reaped; like HikariCP, also replace one that was
  // removed (a failed query, a killed backend) so the pool stays warm. One refill at a time, and not
  // while requests wait for a client: the pool grows on demand then anyway, and the refill would hold
  // clients they need.
  let refilling = false;
  pool.on('remove', () => {
    if (refilling || pool.ending || pool.waitingCount > 0 || pool.totalCount >= (pool.options.min ?? 0))
      return;
    refilling = true;
    warmPool(pool)
      .catch((err: Error) => console.error(`pool refill: ${err.message}`))
      .finally(() => {
        refilling = false;
      });
  });
  return pool;
}

/**
 * Hold `min` clients at once — taking the idle ones and opening the rest, since pg-pool only opens a
 * client when none is idle — then return them all idle. A held client whose backend dies (a nemesis
 * terminating backends) must not crash the process: its error is logged and the pool drops it.
 */
async function warmPool(pool: pg.Pool): Promise<void> {
  const onError = (err: Error) => console.error(`pool warm-up: ${err.message}`);
  const clients = await Promise.all(
    Array.from({ length: pool.options.min ?? 0 }, () =>
      pool.connect().then((client) => client.on('error', onError)),
    ),
  );
  for (const client of clients) {
    client.off('error', onError);
    client.release();
  }
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(b[i]!);
    else if (p !== b[i]) return undefined;
  }
  return params;
}

async function readJson(req: Request): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function send(res: Response, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A duplex over `socket` whose readable side starts with `first` (bytes already taken off the socket). */
function replaying(socket: Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk, encoding, cb) => socket.write(chunk, encoding, cb),
    final: (cb) => socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  stream.push(first);
  socket.on('data', (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

/**
 * Start the server; resolves once it listens. One port speaks HTTP/1.1 and cleartext HTTP/2 (h2c with
 * prior knowledge, which the `single-packet` burst mode needs): the first bytes of a connection decide,
 * since only the HTTP/2 preface starts with `PRI` (RFC 9113 §3.4). Stops on SIGTERM/SIGINT after closing
 * the pool.
 */
export async function serve(name: string, routes: Route[], pool: pg.Pool): Promise<void> {
  const handle = async (req: Request, res: Response) => {
    const url = new URL(req.url ?? '/', 'http://target');
    try {
      if (req.method === 'GET' && url.pathname === '/health') {
        return send(res, { status: 200, body: { ok: true, variant: process.env.VARIANT ?? 'buggy' } });
      }
      for (const route of routes) {
        if (route.method !== req.method) continue;
        const params = match(route.path, url.pathname);
        if (!params) continue;
        const body = await readJson(req);
        return send(res, await route.handler(params, body, req));
      }
      send(res, { status: 404, body: { error: 'not found' } });
    } catch (err) {
      // An unhandled error is what production would turn into a 500: keep it visible in the log.
      const e = err as { message?: string; code?: string };
      console.error(`500 ${req.method} ${url.pathname}: ${e.code ?? ''} ${e.message ?? String(err)}`);
      if (!res.headersSent) send(res, { status: 500, body: { error: e.message ?? 'internal error' } });
    }
  };
  const server = createServer(handle);
  const h2 = createH2Server(handle);
  const front = createNetServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first.subarray(0, 3).toString() === 'PRI') {
        // node:http2 reads the socket's handle directly and would miss the bytes already read: hand it
        // a stream that replays them, then the rest of the socket.
        h2.emit('connection', replaying(socket, first));
      } else {
        socket.unshift(first);
        server.emit('connection', socket);
      }
      socket.resume();
    });
  });
  server.keepAliveTimeout = 65_000;
  await warmPool(pool);
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  await new Promise<void>((resolve) => front.listen(port, host, resolve));
  console.log(`${name} (${process.env.VARIANT ?? 'buggy'}) listening on ${host}:${port}`);
  const stop = () => {
    front.close();
    server.closeAllConnections();
    h2.close();
    void pool.end().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
