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
 * - `dataMs`: when the socket read that completed the request was delivered to JavaScript — taken in a
 *   `data` listener placed before the HTTP parser, so the parsing and handling of other requests in the
 *   same event-loop turn does not delay it (it still follows the reads before it in that turn);
 * - `handlerMs`: when the request's `end` event ran — what a handler in a Node service would see, and so
 *   serialized by every other request's parsing.
 * Responses are written with `setImmediate`, after the event-loop turn's reads, so answering one request
 * does not delay reading (and stamping) the next.
 * Even `dataMs` comes from a single-threaded loop: N sockets that became readable together are read one
 * after the other, some µs each. For wire truth use `../shared/tools/capture-spread` (tshark).
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

/**
 * The TCP socket seen through a JS Duplex, so each read can be stamped before nghttp2 parses it
 * (node:http2 otherwise reads the socket in C++ and JavaScript never sees the bytes).
 */
class StampedSocket extends Duplex {
  lastReadMs = 0;
  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (chunk: Buffer) => {
      this.lastReadMs = performance.now();
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
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
  /** Time of each socket's latest read, ms. */
  const lastReadMs = new WeakMap<Socket, number>();
  const http1 = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const handlerMs = performance.now();
      const dataMs = lastReadMs.get(req.socket) ?? handlerMs;
      const reply = handle('h1', req.method ?? 'GET', req.url ?? '/', dataMs, handlerMs);
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
  http1.on('connection', (socket: Socket) => {
    // Added after node:http's own listener was set up, so node un-consumes the socket (JavaScript sees
    // every read); prepended, so the stamp is taken before the parser runs on the chunk.
    socket.prependListener('data', () => lastReadMs.set(socket, performance.now()));
  });

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
  const front = createNetServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first.subarray(0, 3).equals(PREFACE_START)) {
        const stamped = new StampedSocket(socket);
        pendingStamped.push(stamped);
        h2.emit('connection', stamped);
      } else {
        http1.emit('connection', socket);
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
