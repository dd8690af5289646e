/**
 * probe — a target that does nothing but note when each request finished arriving, to measure a burst's
 * arrival spread (max − min arrival time, ms) for every sync mode. HTTP/1.1 and h2c (prior knowledge) on
 * one port: the first bytes of a connection decide (`PRI * HTTP/2.0` is the HTTP/2 preface, RFC 9113 §3.4).
 *
 *   GET  /__probe/arrivals → { count, spreadMs, arrivalsMs[], dataSpreadMs, dataArrivalsMs[], requests[] }
 *   POST /__probe/reset    → forget every arrival
 *   GET  $PROBE_WARMUP_PATH (default /health) → 200, not recorded
 *   anything else          → 200 {"ok":true} once the request is complete, recorded
 *
 * Two clocks per request, both `performance.now()` in ms:
 * - `dataMs`: when the socket read that completed the request was delivered to JavaScript — stamped
 *   before any parsing; parsing waits until reads have stopped arriving for `QUIET_MS` (`StampedSocket`),
 *   so no request's parsing and handling delays another's stamp (it still follows the reads before it,
 *   some µs each);
 * - `handlerMs`: when the request's `end` event ran. Since parsing waits for a quiet moment, this is not
 *   what a handler in a Node service would see: it measures the probe's parsing of requests that have
 *   all arrived, not the burst.
 * Responses are written with `setImmediate`, after the reads parsed with them.
 * Even `dataMs` comes from a single-threaded loop: N sockets that became readable together are read one
 * after the other, some µs each. For wire truth use `bench/wire-spread.sh` (tshark).
 *
 * Environment: PORT (default 3000), HOST (default 127.0.0.1), PROBE_WARMUP_PATH.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';

interface Arrival {
  proto: 'h1' | 'h2';
  method: string;
  path: string;
  dataMs: number;
  handlerMs: number;
}

/** max − min, ms; 0 for fewer than two. */
function spread(times: number[]): number {
  return times.length < 2 ? 0 : Math.max(...times) - Math.min(...times);
}

/** Reads stamped but not parsed yet, in arrival order; `null` is the peer's FIN, kept in its place. */
const queued: { to: StampedSocket; chunk: Buffer | null; ms: number }[] = [];

/**
 * Parsing waits until no read has arrived for this long, ms (Node's timers round it up to 1 ms): while a
 * burst arrives the probe only reads and stamps. Parsing 200 HTTP/1.1 requests takes milliseconds; done
 * between reads, it delayed the stamps of the reads behind it (last-byte N = 200: 3.7–7.0 ms at the probe
 * for 3.0–3.5 ms on the wire).
 */
const QUIET_MS = 1;
/** ...but never longer than this after the first unparsed read, ms, so steady traffic is still answered. */
const MAX_DEFER_MS = 100;
let lastReadMs = 0;
let firstUnparsedMs = 0;
let parseScheduled = false;

/** Queue a read (or the FIN) with its stamp; parse once reads have stopped arriving. */
function stampRead(to: StampedSocket, chunk: Buffer | null): void {
  const ms = performance.now();
  if (queued.length === 0) firstUnparsedMs = ms;
  lastReadMs = ms;
  queued.push({ to, chunk, ms });
  if (!parseScheduled) {
    parseScheduled = true;
    setTimeout(parseWhenQuiet, QUIET_MS);
  }
}

function parseWhenQuiet(): void {
  const now = performance.now();
  if (now - lastReadMs < QUIET_MS && now - firstUnparsedMs < MAX_DEFER_MS) {
    setTimeout(parseWhenQuiet, QUIET_MS);
    return;
  }
  parseScheduled = false;
  parseQueued();
}

/** Give every queued read to its parser, in arrival order, each with its own stamp. */
function parseQueued(): void {
  for (const { to, chunk, ms } of queued.splice(0)) {
    to.lastReadMs = ms;
    if (chunk === null) {
      // The FIN: after the requests parsed before it have ended and been answered (both in immediates).
      setImmediate(() => setImmediate(() => to.push(null)));
      continue;
    }
    // push() of a flowing stream parses synchronously: the request that this read completes sees `ms`.
    if (!to.push(chunk)) to.socket.pause();
  }
}

/**
 * The TCP socket seen through a JS Duplex whose reads are stamped the moment JavaScript gets them and
 * parsed (node:http, node:http2) only once reads have stopped arriving (`stampRead`): a read's stamp
 * then waits for the reads before it (some µs each), not for their parsing and handling (tens of µs each
 * for HTTP/1.1). Parsing everything after each stamp put the 200th request of a burst ≈ 6 ms late at the
 * probe although all 200 were on the wire within 3.6 ms; parsing after each event-loop turn still left it
 * up to 3.5 ms late.
 */
class StampedSocket extends Duplex {
  /** Stamp (performance.now(), ms) of the read being parsed. */
  lastReadMs = 0;
  constructor(readonly socket: Socket) {
    super();
    socket.on('data', (chunk: Buffer) => stampRead(this, chunk));
    // After the reads queued before it, or a half-closing client's request would be cut off.
    socket.on('end', () => stampRead(this, null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }
  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
  // node:http calls these on its connections.
  setTimeout(ms: number, cb?: () => void): this {
    this.socket.setTimeout(ms, cb);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delayMs?: number): this {
    this.socket.setKeepAlive(enable, delayMs);
    return this;
  }
}

/** The first bytes of the HTTP/2 connection preface. */
const PREFACE_START = Buffer.from('PRI');

/** Create the probe (not listening yet): one `net.Server` in front of node:http and node:http2. */
export function createProbe(warmupPath = '/health'): NetServer {
  let arrivals: Arrival[] = [];

  /** The reply to a complete request; records it unless it is the probe's own or the warm-up. */
  function handle(proto: 'h1' | 'h2', method: string, path: string, dataMs: number, handlerMs: number) {
    if (path === '/__probe/arrivals') {
      const dataArrivalsMs = arrivals.map((a) => a.dataMs);
      const arrivalsMs = arrivals.map((a) => a.handlerMs);
      const body = {
        count: arrivals.length,
        spreadMs: spread(arrivalsMs),
        arrivalsMs,
        dataSpreadMs: spread(dataArrivalsMs),
        dataArrivalsMs,
        requests: arrivals,
      };
      return { status: 200, body: JSON.stringify(body) };
    }
    if (path === '/__probe/reset') {
      arrivals = [];
      return { status: 200, body: '{"reset":true}' };
    }
    if (path !== warmupPath) arrivals.push({ proto, method, path, dataMs, handlerMs });
    return { status: 200, body: '{"ok":true}' };
  }

  // HTTP/1.1
  const http1 = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const transport = req.socket as unknown as StampedSocket;
    req.resume();
    req.on('end', () => {
      const handlerMs = performance.now();
      const reply = handle('h1', req.method ?? 'GET', req.url ?? '/', transport.lastReadMs, handlerMs);
      // Answer after this turn's reads: writing now would delay the next socket's read (and stamp).
      setImmediate(() => {
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(reply.body),
        });
        res.end(reply.body);
      });
    });
  });
  http1.keepAliveTimeout = 65_000;

  // HTTP/2 (h2c)
  const h2 = createH2Server();
  const stampedBySession = new WeakMap<object, StampedSocket>();
  /** Duplexes handed to the h2 server, waiting for their session ('session' is emitted synchronously). */
  const pendingStamped: StampedSocket[] = [];
  h2.on('session', (session) => {
    const stamped = pendingStamped.shift();
    if (stamped) stampedBySession.set(session, stamped);
  });
  h2.on('sessionError', () => undefined);
  h2.on('stream', (stream: ServerHttp2Stream, headers) => {
    const method = String(headers[':method']);
    const path = String(headers[':path']);
    const transport = stream.session ? stampedBySession.get(stream.session) : undefined;
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      const handlerMs = performance.now();
      const reply = handle('h2', method, path, transport?.lastReadMs ?? handlerMs, handlerMs);
      setImmediate(() => {
        if (stream.destroyed) return;
        stream.respond({ ':status': reply.status, 'content-type': 'application/json' });
        stream.end(reply.body);
      });
    });
  });

  // One port, two protocols: no HTTP/1.1 method starts with 'PRI', so three bytes decide.
  // Half-open allowed: a client's FIN must not close the socket under requests still waiting to be
  // parsed; it is queued behind them and node:http decides when to close.
  const front = createNetServer({ allowHalfOpen: true }, (socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const stamped = new StampedSocket(socket);
      if (first.subarray(0, 3).equals(PREFACE_START)) {
        pendingStamped.push(stamped);
        h2.emit('connection', stamped);
      } else {
        http1.emit('connection', stamped);
      }
      socket.resume();
    });
  });
  front.on('close', () => {
    http1.closeAllConnections();
    h2.close();
  });
  return front;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? '127.0.0.1';
  const probe = createProbe(process.env.PROBE_WARMUP_PATH ?? '/health');
  probe.listen(port, host, () => console.log(`probe listening on ${host}:${port} (HTTP/1.1 and h2c)`));
  const stop = () => probe.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
