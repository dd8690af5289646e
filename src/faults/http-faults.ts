/**
 * HTTP fault proxy: a reverse proxy (`node:http` in, undici out) in front of one upstream HTTP service,
 * with the faults a TCP proxy cannot express because they need to know where a response starts:
 *
 * - `status`: answer with a status (e.g. 503 and a body) without asking the upstream;
 * - `abort`: forward the request (the upstream does the work), then destroy the client's connection
 *   before the response headers, or after `afterBytes` bytes of the body;
 * - `delay`: hold the request `delayMs` before forwarding it.
 *
 * Each applies to every request, the `first` N after it was set, or a `probability` per request (seeded),
 * and can be limited to a `pathPrefix`. Faults switch at runtime (`setFault`, `clearFault`).
 *
 * The herd's physics: retry waves need failures correlated in time. A `status` fault that
 * only meets new arrivals spreads failures as evenly as the arrivals; an outage that *begins* by failing
 * (`onStart: 'fail-in-flight'`) or resetting (`'reset-in-flight'`) every request in flight at that instant
 * synchronizes the clients' retry clocks, as a crash or a restart does. `'let-finish'` is the default.
 *
 * Every request is recorded: arrival time on the given clock, method, path, the headers of interest,
 * the status returned, and which fault applied.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { z } from 'zod';
import { WhatbreaksError } from '../errors.js';
import {
  type HttpFault,
  type HttpFaultInput,
  type HttpRequestRecord,
  httpFaultSchema,
} from './http-fault-schema.js';
import type { HostPort } from './proxy.js';
import { DEFAULT_SEED, mulberry32, type Random } from './random.js';

export {
  type HttpFault,
  type HttpFaultInput,
  type HttpRequestRecord,
  httpFaultSchema,
  type OnStart,
} from './http-fault-schema.js';

export interface HttpFaultProxyOptions {
  name: string;
  /** Upstream origin, e.g. `http://127.0.0.1:8081`. */
  upstream: string | URL;
  /** Default `127.0.0.1`. */
  listenHost?: string;
  /** Default 0 (ephemeral). */
  listenPort?: number;
  /** Clock for the records, ms (e.g. ms since trial start). Default `performance.now`. */
  clock?: () => number;
  random?: Random;
  seed?: number;
  /** Request headers to record, any case. Default `x-request-id`, `idempotency-key`. */
  recordHeaders?: readonly string[];
}

export interface StartedHttpFaultProxy extends AsyncDisposable {
  readonly name: string;
  readonly address: HostPort;
  /** `http://host:port` for clients. */
  readonly url: URL;
  /** The active fault, with defaults applied. */
  readonly fault: HttpFault | undefined;
  /** Requests currently in flight. */
  readonly inFlightCount: number;
  /** Activate a fault (replacing any other); in-flight requests are treated per `onStart`. */
  setFault(fault: HttpFaultInput): HttpFault;
  /** No fault from now on; requests already delayed or being cut continue as they were. */
  clearFault(): void;
  /** Copies of the request records so far, in arrival order, from index `from` (default 0; `seq` = index + 1). */
  records(from?: number): HttpRequestRecord[];
  /** Number of requests recorded so far. */
  readonly recordCount: number;
  stop(): Promise<void>;
}

/** Request and response headers a proxy must not pass on (RFC 9110 §7.6.1), plus `host`. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

interface InFlight {
  readonly rec: HttpRequestRecord;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Captured at arrival: `req.socket` can be detached later. */
  readonly socket: Socket;
  readonly upstream: AbortController;
  /** A fault set later took over this request (`onStart`): the handler only cleans up. */
  takenOver: boolean;
}

export async function startHttpFaultProxy(options: HttpFaultProxyOptions): Promise<StartedHttpFaultProxy> {
  const p = new HttpFaultProxy(options);
  await p.listen();
  return p;
}

class HttpFaultProxy implements StartedHttpFaultProxy {
  readonly name: string;
  #upstream: URL;
  #pool: Pool;
  #server: Server;
  #host: string;
  #port: number;
  #clock: () => number;
  #random: Random;
  #recordHeaders: string[];
  #records: HttpRequestRecord[] = [];
  #inFlight = new Set<InFlight>();
  #fault: HttpFault | undefined;
  /** Requests the current fault applied to so far (for `first`). */
  #applied = 0;
  #stopped = false;

  constructor(o: HttpFaultProxyOptions) {
    this.name = o.name;
    this.#upstream = new URL(o.upstream);
    if (this.#upstream.protocol !== 'http:') {
      throw new WhatbreaksError(
        'USAGE',
        `http fault proxy "${o.name}": upstream must be http://, got ${o.upstream}`,
      );
    }
    this.#pool = new Pool(this.#upstream.origin);
    this.#host = o.listenHost ?? '127.0.0.1';
    this.#port = o.listenPort ?? 0;
    this.#clock = o.clock ?? (() => performance.now());
    this.#random = o.random ?? mulberry32(o.seed ?? DEFAULT_SEED);
    this.#recordHeaders = (o.recordHeaders ?? ['x-request-id', 'idempotency-key']).map((h) =>
      h.toLowerCase(),
    );
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => socket.on('error', () => {})); // resets are ours to make
  }

  async listen(): Promise<void> {
    try {
      this.#server.listen(this.#port, this.#host);
      await once(this.#server, 'listening');
    } catch (error) {
      throw new WhatbreaksError(
        'ENV_UNAVAILABLE',
        `http fault proxy "${this.name}" cannot listen on ${this.#host}:${this.#port}: ${(error as Error).message}`,
        undefined,
        { cause: error },
      );
    }
    this.#port = (this.#server.address() as { port: number }).port;
  }

  get address(): HostPort {
    return { host: this.#host, port: this.#port };
  }

  get url(): URL {
    return new URL(`http://${this.#host}:${this.#port}`);
  }

  get fault(): HttpFault | undefined {
    return this.#fault;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  setFault(input: HttpFaultInput): HttpFault {
    const r = httpFaultSchema.safeParse(input);
    if (!r.success) {
      throw new WhatbreaksError(
        'USAGE',
        `invalid http fault: ${z.prettifyError(r.error).replaceAll('\n', '; ')}`,
      );
    }
    const f = r.data;
    this.#fault = f;
    this.#applied = 0;
    if (f.onStart !== 'let-finish') {
      for (const entry of this.#inFlight) {
        if (entry.takenOver || !this.#selects(f, entry.req)) continue;
        entry.takenOver = true;
        entry.rec.fault = f.type;
        entry.rec.hitInFlight = true;
        entry.upstream.abort();
        if (f.onStart === 'reset-in-flight') this.#cut(entry, true);
        else if (f.type === 'status' && !entry.res.headersSent) this.#respondStatus(entry, f);
        else this.#cut(entry, f.type === 'abort' && f.reset);
      }
    }
    return f;
  }

  clearFault(): void {
    this.#fault = undefined;
  }

  records(from = 0): HttpRequestRecord[] {
    return this.#records.slice(from).map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  get recordCount(): number {
    return this.#records.length;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const e of this.#inFlight) e.upstream.abort();
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeAllConnections();
    await closed;
    await this.#pool.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Whether fault `f` applies to this request; counts it toward `first`. */
  #selects(f: HttpFault, req: IncomingMessage): boolean {
    if (f.pathPrefix && !(req.url ?? '/').startsWith(f.pathPrefix)) return false;
    if (f.first !== undefined && this.#applied >= f.first) return false;
    if (f.probability !== undefined && !(this.#random() < f.probability)) return false;
    this.#applied++;
    return true;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec: HttpRequestRecord = {
      seq: this.#records.length + 1,
      atMs: this.#clock(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: {},
      outcome: 'pending',
    };
    for (const h of this.#recordHeaders) {
      const v = req.headers[h];
      if (v !== undefined) rec.headers[h] = Array.isArray(v) ? v.join(', ') : v;
    }
    this.#records.push(rec);
    const entry: InFlight = {
      rec,
      req,
      res,
      socket: req.socket,
      upstream: new AbortController(),
      takenOver: false,
    };
    this.#inFlight.add(entry);
    res.once('close', () => {
      this.#inFlight.delete(entry);
      entry.upstream.abort();
      rec.endMs ??= this.#clock();
      if (rec.outcome === 'pending') rec.outcome = 'client-gone';
    });

    const f = this.#fault && this.#selects(this.#fault, req) ? this.#fault : undefined;
    if (f) rec.fault = f.type;
    try {
      if (f?.type === 'status') {
        this.#respondStatus(entry, f);
        return;
      }
      if (f?.type === 'delay' && !(await sleep(f.delayMs, entry.upstream.signal))) return;
      await this.#forward(entry, f?.type === 'abort' ? f : undefined);
    } catch (error) {
      if (entry.takenOver || res.writableEnded || res.destroyed) return;
      rec.error = (error as Error).message;
      if (res.headersSent) {
        this.#cut(entry, false);
        return;
      }
      rec.outcome = 'upstream-error';
      rec.status = 502;
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`whatbreaks http fault proxy "${this.name}": upstream error: ${rec.error}\n`);
    }
  }

  async #forward(entry: InFlight, abort: Extract<HttpFault, { type: 'abort' }> | undefined): Promise<void> {
    const { req, res, rec } = entry;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    const up = await this.#pool.request({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as 'GET',
      headers,
      body: hasBody ? req : undefined,
      signal: entry.upstream.signal,
    });
    up.body.on('error', () => {}); // aborts after the fact (client gone, fault took over) are expected
    if (entry.takenOver) {
      up.body.destroy();
      return;
    }
    if (abort && abort.afterBytes === undefined) {
      up.body.destroy();
      this.#cut(entry, abort.reset);
      return;
    }
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    res.writeHead(up.statusCode, out);
    rec.status = up.statusCode;
    let budget = abort?.afterBytes ?? Number.POSITIVE_INFINITY;
    if (budget === 0) {
      await write(res, Buffer.alloc(0)); // flush the headers
      up.body.destroy();
      this.#cut(entry, abort!.reset);
      return;
    }
    for await (const chunk of up.body as AsyncIterable<Buffer>) {
      if (entry.takenOver) return;
      const piece = chunk.length > budget ? chunk.subarray(0, budget) : chunk;
      budget -= piece.length;
      await write(res, piece);
      if (budget <= 0) {
        up.body.destroy();
        this.#cut(entry, abort!.reset);
        return;
      }
    }
    rec.outcome = 'ok';
    res.end();
  }

  #respondStatus(entry: InFlight, f: Extract<HttpFault, { type: 'status' }>): void {
    const headers = {
      'content-type': 'text/plain',
      ...f.headers,
      'content-length': String(Buffer.byteLength(f.body)),
    };
    entry.rec.status = f.status;
    entry.rec.outcome = 'fault';
    entry.rec.endMs = this.#clock();
    entry.res.writeHead(f.status, headers);
    entry.res.end(f.body);
  }

  /** Destroy the client's connection: FIN (or RST with `reset`), whatever was sent so far stays sent. */
  #cut(entry: InFlight, reset: boolean): void {
    entry.rec.outcome = reset ? 'reset' : 'aborted';
    entry.rec.endMs = this.#clock();
    const socket = entry.socket;
    if (socket.destroyed) return;
    if (reset) socket.resetAndDestroy();
    else socket.destroy();
  }
}

function write(res: ServerResponse, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => res.write(data, (err) => (err ? reject(err) : resolve())));
}

/** true after `ms`, false if `signal` aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
