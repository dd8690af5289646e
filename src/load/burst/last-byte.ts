import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PreparedRequest } from '../types.js';
import type { Http1Response } from './http1-response.js';
import { ConnectionFailure, RawHttp1Connection, serializeRequest, settleRecord } from './raw-http1.js';
import { type BurstSender, type SenderFactory, spreadMs } from './sender.js';

/**
 * `last-byte`: HTTP/1.1 last-byte synchronization (Kettle, "Smashing the state machine", 2023, §3.2,
 * after the "last-byte sync" trick from earlier race-condition tooling).
 *
 * ```
 * prepare:  connect N sockets ─► GET warmupPath on each (keep-alive) ─► write request[i] minus 1 byte
 *           ─► wait holdMs (the server has parsed everything but cannot finish any request)
 * release:  for i in 0..N-1: write final byte of request[i]      (one synchronous loop, ~µs per write)
 * ```
 *
 * One raw `node:net` socket per request (TLS for `https:`), Nagle off, so each final byte leaves in its
 * own segment the moment it is written. For a bodiless request the held-back byte is the last `\n` of the
 * head's closing CRLF. Each record's `sentAtMs` is the clock right after its final-byte write;
 * `sendSpreadMs` is the spread of those. After release every request has `timeoutMs` ms to complete,
 * else `error: 'TIMEOUT'`; socket errors give the errno code (see `raw-http1.ts` for the list).
 */
export const lastByte: SenderFactory = (options) => {
  const sockets: Socket[] = [];
  let connections: RawHttp1Connection[] = [];
  let prepared: readonly PreparedRequest[] = [];
  let finals: Buffer[] = [];
  let responses: Array<Promise<Http1Response>> = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const sender: BurstSender = {
    mode: 'last-byte',

    async prepare(requests) {
      prepared = requests;
      const host = options.baseUrl.host;
      const messages = requests.map((r) => serializeRequest(r, host));
      const warmup = serializeRequest(
        { index: -1, method: 'GET', path: options.warmupPath, headers: {} },
        host,
      );
      connections = await Promise.all(
        requests.map(async () => {
          const conn = await RawHttp1Connection.open(options.baseUrl, options.timeoutMs, (s) =>
            sockets.push(s),
          );
          if (closed) throw new ConnectionFailure('CLOSED', 'sender closed during prepare');
          const warmed = conn.response('GET');
          await conn.write(warmup);
          const res = await withTimeout(warmed, options.timeoutMs, conn);
          if (!res.keepAlive) {
            throw new ConnectionFailure(
              'WARMUP_NOT_KEEPALIVE',
              `the target closes the connection after GET ${options.warmupPath}; last-byte needs keep-alive`,
            );
          }
          return conn;
        }),
      );
      finals = messages.map((m) => m.subarray(m.length - 1));
      responses = connections.map((conn, i) => {
        const p = conn.response(requests[i]!.method);
        p.catch(() => undefined); // observed in release(); a failure during the hold must not go unhandled
        return p;
      });
      await Promise.all(connections.map((conn, i) => conn.write(messages[i]!.subarray(0, -1))));
      await sleep(options.holdMs);
    },

    async release() {
      const n = connections.length;
      const sentAtMs = new Array<number>(n);
      // The burst itself: nothing but one write and one clock read per connection.
      for (let i = 0; i < n; i++) {
        connections[i]!.socket.write(finals[i]!);
        sentAtMs[i] = options.clock();
      }
      timer = setTimeout(() => {
        for (const conn of connections) conn.fail('TIMEOUT');
      }, options.timeoutMs);
      const records = await Promise.all(
        connections.map((_conn, i) =>
          settleRecord(
            { index: prepared[i]!.index, connection: i, sentAtMs: sentAtMs[i]! },
            responses[i]!,
            options.clock,
          ),
        ),
      );
      clearTimeout(timer);
      return { records, sendSpreadMs: spreadMs(sentAtMs) };
    },

    async close() {
      closed = true;
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
    },
  };
  return sender;
};

/** `p`, or a `TIMEOUT` failure of `conn` after `ms` ms. */
async function withTimeout<T>(p: Promise<T>, ms: number, conn: RawHttp1Connection): Promise<T> {
  const timer = setTimeout(() => conn.fail('TIMEOUT'), ms);
  try {
    return await p;
  } finally {
    clearTimeout(timer);
  }
}
