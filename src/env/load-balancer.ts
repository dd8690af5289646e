import {
  Agent,
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { registerCleanup } from './teardown.js';
import type { LoadBalancerPolicy } from './types.js';

/**
 * The built-in HTTP load balancer in front of a target's replicas — what production puts between the
 * clients and N copies of a service (an nginx `upstream`, an ALB), so that per-replica state (an
 * in-process lock, a local cache) meets traffic spread across replicas.
 *
 * ```
 *   load ──► balancer (127.0.0.1:P) ──keep-alive pool──► replica 0 (127.0.0.1:P0)
 *                                     └───────────────► replica 1 (127.0.0.1:P1) …
 * ```
 *
 * - picks a replica by `round-robin`, `random` (injected source) or `sticky` (FNV-1a hash of a request
 *   header, else of the client address);
 * - forwards method, path, headers (hop-by-hop headers dropped, `x-forwarded-for` added) and body;
 *   the response body streams back as it arrives;
 * - a replica that refuses the connection (down, restarting), or resets a reused keep-alive socket before
 *   answering, is skipped and the next one tried; 502 once every replica failed. Request bodies stream
 *   through as they arrive (a held last byte of a body stays held until the client sends it; a bodiless
 *   request is forwarded once its headers are whole) and are kept, so a retry resends every byte
 *   (nothing dropped on the floor); a request whose replica fails after it may have processed it is
 *   *not* retried (502), as a careful balancer does for non-idempotent requests;
 * - every response carries `x-whatbreaks-replica: <id>` (`none` on a 502), and `stats()` counts them.
 */
export interface Upstream {
  /** Replica id (`INSTANCE_ID`). */
  id: number;
  url: URL;
}

export interface LoadBalancerOptions extends Partial<LoadBalancerPolicy> {
  upstreams: readonly Upstream[];
  /** Port to listen on; default a free one. Always 127.0.0.1. */
  port?: number;
  /** Uniform in [0, 1) for `random`; default `Math.random`. */
  random?: () => number;
}

export interface LoadBalancer extends AsyncDisposable {
  readonly url: URL;
  /** Responses served per replica id, plus `failed` (502s). */
  stats(): { served: Record<number, number>; failed: number; retries: number };
  /**
   * Start recording when each request is handed, whole, to a replica: the moment its last byte is
   * written to the replica's connection (or queued, while a new connection opens), `performance.now()` of
   * this process, ms; a retried request counts at its last attempt. `stop()` ends the recording and
   * returns the stamps in order. This is the arrival a burst's replicas see, after the balancer's cost.
   */
  recordForwards(): { stop(): number[] };
  stop(): Promise<void>;
}

/** Response header naming the replica that answered. */
export const REPLICA_HEADER = 'x-whatbreaks-replica';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Errors after which the request certainly did not reach the replica's handler. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** FNV-1a, 32 bit: a stable, cheap hash for sticky sessions. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function forwardHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = new Set(
    String(req.headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || connectionTokens.has(k)) continue;
    out[k] = v;
  }
  const client = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = req.headers['x-forwarded-for']
    ? `${req.headers['x-forwarded-for']}, ${client}`
    : client;
  // `content-length` passes through (the body is forwarded unchanged); a chunked body is re-chunked.
  return out;
}

/** Start a balancer over `upstreams`; registered for teardown until stopped. */
export async function startLoadBalancer(opts: LoadBalancerOptions): Promise<LoadBalancer> {
  const upstreams = [...opts.upstreams];
  if (upstreams.length === 0) throw new Error('a load balancer needs at least one upstream');
  const policy = opts.policy ?? 'round-robin';
  const random = opts.random ?? Math.random;
  const agents = new Map(
    upstreams.map((u) => [
      u.id,
      new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, keepAliveMsecs: 1_000 }),
    ]),
  );
  const served: Record<number, number> = Object.fromEntries(upstreams.map((u) => [u.id, 0]));
  let failed = 0;
  let retries = 0;
  let next = 0;
  const recordings = new Set<number[]>();
  const forwarded = () => {
    if (recordings.size === 0) return;
    const t = performance.now();
    for (const r of recordings) r.push(t);
  };

  const firstIndex = (req: IncomingMessage): number => {
    if (policy === 'random') return Math.floor(random() * upstreams.length) % upstreams.length;
    if (policy === 'sticky') {
      const h = opts.stickyHeader ? req.headers[opts.stickyHeader.toLowerCase()] : undefined;
      const key = (Array.isArray(h) ? h[0] : h) ?? req.socket.remoteAddress ?? '';
      return fnv1a(key) % upstreams.length;
    }
    const i = next;
    next = (next + 1) % upstreams.length;
    return i;
  };

  /**
   * Forward one request. The upstream request starts as soon as the client's headers are in, and the body
   * streams through chunk by chunk, so a burst's held final bytes (last-byte sync) reach the replicas as
   * one read-and-write each instead of a whole request's parse-and-forward after the release. The chunks
   * are also kept: a retry on the next replica resends every byte received so far.
   */
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let current: ClientRequest | undefined;
    const start = firstIndex(req);
    const attempt = (k: number) => {
      const up = upstreams[(start + k) % upstreams.length]!;
      const isLast = k === upstreams.length - 1;
      const out = httpRequest(
        {
          host: up.url.hostname,
          port: up.url.port,
          method: req.method,
          path: req.url,
          headers: forwardHeaders(req),
          agent: agents.get(up.id),
        },
        (upRes) => {
          const headers: Record<string, string | string[]> = {};
          for (const [key, v] of Object.entries(upRes.headers)) {
            if (v !== undefined && !HOP_BY_HOP.has(key)) headers[key] = v;
          }
          headers[REPLICA_HEADER] = String(up.id);
          res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
          served[up.id] = (served[up.id] ?? 0) + 1;
          upRes.pipe(res);
          upRes.on('error', () => res.destroy());
          upRes.on('aborted', () => res.destroy());
        },
      );
      current = out;
      out.on('error', (err: NodeJS.ErrnoException) => {
        if (current !== out) return;
        current = undefined;
        if (res.headersSent) {
          // The replica died mid-response: the client sees a cut connection, as behind a real balancer.
          res.destroy();
          return;
        }
        if (res.destroyed) return;
        const code = err.code ?? '';
        const retriable = NOT_DELIVERED.has(code) || (out.reusedSocket && code === 'ECONNRESET');
        if (retriable && !isLast) {
          retries++;
          attempt(k + 1);
          return;
        }
        failed++;
        const text = JSON.stringify({
          error: retriable ? 'no replica answered' : `replica ${up.id} failed: ${code || err.message}`,
        });
        res.writeHead(502, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          [REPLICA_HEADER]: 'none',
        });
        res.end(text);
      });
      for (const c of chunks) out.write(c);
      if (ended) {
        out.end();
        forwarded();
      }
    };
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      current?.write(c);
    });
    req.on('end', () => {
      ended = true;
      if (current) {
        current.end();
        forwarded();
      }
    });
    // The client went away before its request was whole: the replica must not get half of it.
    req.on('error', () => {
      current?.destroy();
      current = undefined;
      res.destroy();
    });
    res.on('close', () => {
      if (!ended) {
        current?.destroy();
        current = undefined;
      }
    });
    attempt(0);
  };

  const sockets = new Set<Socket>();
  const server: Server = createServer(handle);
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = new URL(`http://127.0.0.1:${port}`);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      for (const a of agents.values()) a.destroy();
      await closed;
      unregister();
    })();
    return stopped;
  };
  const unregister = registerCleanup(`load balancer on port ${port}`, stop, () => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  return {
    url,
    stats: () => ({ served: { ...served }, failed, retries }),
    recordForwards() {
      const stamps: number[] = [];
      recordings.add(stamps);
      return {
        stop: () => {
          recordings.delete(stamps);
          return stamps;
        },
      };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
