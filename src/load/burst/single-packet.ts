import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PreparedRequest } from '../types.js';
import { BurstFailure } from './burst-failure.js';
import { H2Connection, type H2Response } from './h2-connection.js';
import type { HeaderField } from './hpack.js';
import { CONNECTIONS_IN_FLIGHT, mapPaced } from './paced.js';
import { connectStalledHint, runPhase, warmupTimeoutHint } from './phase.js';
import { settleRecord } from './raw-http1.js';
import { type BurstSender, type SenderFactory, spreadMs } from './sender.js';

/**
 * `single-packet`: the HTTP/2 single-packet attack (Kettle, "Smashing the state machine: the true
 * potential of web race conditions", 2023, §4). Many requests complete in one TCP packet, so network
 * jitter cannot pull them apart: the server receives all their last bytes in the same read.
 *
 * ```
 * prepare:  ⌈N / streamsPerConnection⌉ connections (h2c prior knowledge, or TLS + ALPN h2)
 *           ─► warm each with GET warmupPath (stream 1)
 *           ─► per stream: HEADERS (no END_STREAM) + DATA with the body minus its last byte,
 *              all of a connection in one write ─► wait holdMs
 * release:  per connection: PING, then every held frame (DATA with END_STREAM: the last body byte, or
 *           empty for a bodiless request) in ONE socket write
 * ```
 *
 * The PING goes out just before the held frames (the design in issue #3, after Kettle's). With Nagle
 * off the held frames of a connection leave as one segment (they are ~10 bytes per stream, so 20–30
 * streams fit easily in one MSS). Each record's `sentAtMs` is the clock right after its connection's
 * release write; `connection` is the connection's index. Timeouts give `TIMEOUT`; stream resets
 * `RST_STREAM:<error>`; see `h2-connection.ts` for the other codes.
 *
 * Each phase (`warm-up`, or `connect` with `warmup: off`; `pre-send`; `hold`) has `timeoutMs` ms for all
 * connections, and a burst that cannot run fails `prepare` with a `BurstFailure` naming the phase, how
 * far it got and a hint: `H2_NOT_SUPPORTED` (the target's first bytes are not a SETTINGS frame, or it
 * closes the connection without one: an HTTP/1.x server; the hint names `last-byte`), `H2_NOT_NEGOTIATED`
 * (TLS without ALPN h2), `PRESEND_REJECTED` (a connection closed or a stream answered during the hold).
 *
 * Limits: a connection's total body bytes must fit the server's flow-control windows (64 KiB by
 * default) — larger bodies fail `prepare` with `H2_FLOW_CONTROL`; a server whose
 * SETTINGS_MAX_CONCURRENT_STREAMS is below `streamsPerConnection` fails `prepare` with `H2_TOO_MANY_STREAMS`.
 */
export const singlePacket: SenderFactory = (options) => {
  const sockets: Socket[] = [];
  let connections: H2Connection[] = [];
  let batches: PreparedRequest[][] = [];
  let held: Buffer[] = [];
  let responses: Array<Array<Promise<H2Response>>> = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let answered = 0;
  const perConnection = Math.max(1, options.streamsPerConnection);

  const sender: BurstSender = {
    mode: 'single-packet',

    async prepare(requests) {
      batches = [];
      for (let i = 0; i < requests.length; i += perConnection)
        batches.push(requests.slice(i, i + perConnection));
      const n = batches.length;
      const warm = (options.warmup ?? 'auto') !== 'off';
      let opened = 0;
      let warmed = 0;
      const opening = warm ? 'warm-up' : 'connect';
      connections = await runPhase(
        opening,
        options.timeoutMs,
        mapPaced(batches, CONNECTIONS_IN_FLIGHT, async (batch) => {
          const conn = await H2Connection.open(options.baseUrl, undefined, (s) => sockets.push(s));
          if (closed) throw new BurstFailure('CLOSED', 'sender closed during prepare');
          opened++;
          if (conn.maxConcurrentStreams < batch.length) {
            throw new BurstFailure(
              'H2_TOO_MANY_STREAMS',
              `in ${opening}: the server allows ${conn.maxConcurrentStreams} concurrent streams per connection, the burst puts ${batch.length} on one`,
              `set load.streamsPerConnection to ${conn.maxConcurrentStreams} or less`,
              opening,
            );
          }
          if (warm) {
            const w = conn.stream(
              requestFields(options.baseUrl, 'GET', options.warmupPath, {}),
              undefined,
              false,
            );
            conn.socket.write(Buffer.concat(w.preSend));
            await w.response;
            warmed++;
          }
          return conn;
        }),
        {
          progress: () =>
            `${opened}/${n} HTTP/2 connections open${warm ? `, ${warmed}/${n} warm-ups (GET ${options.warmupPath}) answered` : ''}`,
          timeoutHint: warm ? warmupTimeoutHint : connectStalledHint,
          failureHint: h2FailureHint,
        },
      );
      held = [];
      responses = [];
      answered = 0;
      let presentCount = 0;
      await runPhase(
        'pre-send',
        options.timeoutMs,
        Promise.all(
          connections.map((conn, c) => {
            const preSend: Buffer[] = [];
            const heldFrames: Buffer[] = [];
            const promises: Array<Promise<H2Response>> = [];
            for (const req of batches[c]!) {
              const s = conn.stream(
                requestFields(options.baseUrl, req.method, req.path, req.headers, req.body),
                req.body,
                true,
              );
              preSend.push(...s.preSend);
              heldFrames.push(...s.held);
              // Observed by the hold check and release(); a failure during the hold must not go unhandled.
              s.response.then(
                () => void answered++,
                () => undefined,
              );
              promises.push(s.response);
            }
            held[c] = Buffer.concat(heldFrames);
            responses[c] = promises;
            return new Promise<void>((resolve, reject) =>
              conn.socket.write(Buffer.concat(preSend), (err) => {
                if (err) return reject(err);
                presentCount += batches[c]!.length;
                resolve();
              }),
            );
          }),
        ),
        {
          progress: () => `${presentCount}/${requests.length} requests pre-sent`,
          failureHint: h2FailureHint,
        },
      );
      await sleep(options.holdMs);
      if (closed) throw new BurstFailure('CLOSED', 'sender closed during prepare');
      const failed = connections.filter((conn) => conn.failure !== undefined);
      if (failed.length > 0 || answered > 0) {
        throw new BurstFailure(
          'PRESEND_REJECTED',
          `in hold: the target ${failed.length > 0 ? `closed ${failed.length}/${n} connections (${failed[0]!.failure})` : ''}${failed.length > 0 && answered > 0 ? ' and ' : ''}${answered > 0 ? `answered ${answered} streams` : ''} within holdMs ${options.holdMs} ms, before their final frame`,
          'the target does not keep an HTTP/2 request open until its END_STREAM: use sync: last-byte',
          'hold',
        );
      }
    },

    async release() {
      const sentAtMs = new Array<number>(connections.length);
      for (let c = 0; c < connections.length; c++) {
        const socket = connections[c]!.socket;
        socket.write(connections[c]!.ping().frame);
        socket.write(held[c]!);
        sentAtMs[c] = options.clock();
      }
      timer = setTimeout(() => {
        for (const conn of connections) conn.fail('TIMEOUT');
      }, options.timeoutMs);
      const records = await Promise.all(
        batches.flatMap((batch, c) =>
          batch.map((req, k) =>
            settleRecord(
              { index: req.index, connection: c, sentAtMs: sentAtMs[c]! },
              responses[c]![k]!,
              options.clock,
            ),
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

/** What to try when an HTTP/2 connection fails with `code` while the burst prepares. */
function h2FailureHint(code: string): string | undefined {
  if (code === 'H2_NOT_SUPPORTED' || code === 'H2_NOT_NEGOTIATED') {
    return 'single-packet needs HTTP/2 (h2c prior knowledge on http:, ALPN h2 on https:): use sync: last-byte, which works against any HTTP/1.x server';
  }
  return undefined;
}

/** Headers that are connection-specific in HTTP/1.1 and forbidden in HTTP/2 (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'host',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** The HTTP/2 header list of a request: pseudo-headers first (RFC 9113 §8.3.1), then lower-cased fields. */
export function requestFields(
  baseUrl: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): HeaderField[] {
  const fields: HeaderField[] = [
    [':method', method.toUpperCase()],
    [':scheme', baseUrl.protocol === 'https:' ? 'https' : 'http'],
    [':authority', baseUrl.host],
    [':path', path],
  ];
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC.has(lower) || lower === 'content-length') continue;
    if (lower === 'te' && value.toLowerCase() !== 'trailers') continue;
    fields.push([lower, value]);
  }
  if (body !== undefined) fields.push(['content-length', String(body.length)]);
  return fields;
}
