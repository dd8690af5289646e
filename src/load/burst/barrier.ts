import type { Socket } from 'node:net';
import { buildConnector, Client } from 'undici';
import type { PreparedRequest } from '../types.js';
import { BurstFailure } from './burst-failure.js';
import { CONNECTIONS_IN_FLIGHT, mapPaced } from './paced.js';
import { connectStalledHint, runPhase, warmupTimeoutHint } from './phase.js';
import type { BurstSender, SenderFactory } from './sender.js';
import { spreadMs } from './sender.js';
import { sendWithUndici } from './undici-common.js';

/**
 * `barrier`: open and warm one connection per request (a request to the warm-up path on each), then hand
 * every request to its connection in one synchronous loop, in one event-loop tick. Removes connection
 * setup from the spread; each request still travels whole, so its last byte's arrival depends on how
 * fast the client writes N sockets one after another.
 *
 * ```
 * prepare:  warm-up  one undici Client per request ─► GET warmupPath on each (a few at a time: `paced.ts`)
 *           connect  a fresh socket for each Client whose connection the target closed after its warm-up
 *                    (or for every Client, with warmup: off), handed to undici when it next connects
 * release:  client[i].request(request[i]) for every i in one synchronous loop
 * ```
 *
 * A target that does not keep connections alive (HTTP/1.0, `Connection: close`) would otherwise make
 * undici reconnect inside the burst, as `naive` does; `warmup` (`auto`, `on`, `off`) works as for
 * `last-byte`. Each phase has `timeoutMs` ms; one that runs out fails the burst with a `BurstFailure`
 * naming the phase and how many connections got through it.
 */
export const barrier: SenderFactory = (options) => {
  const sockets: Socket[] = [];
  let connections: BarrierConnection[] = [];
  let warnings: string[] = [];
  let prepared: readonly PreparedRequest[] = [];
  const base = buildConnector({});
  const target = connectTarget(options.baseUrl);
  let closed = false;
  /** Keep `socket` for close(); one that opens after close() (a phase timed out meanwhile) is destroyed. */
  const track = (socket: Socket) => {
    sockets.push(socket);
    if (closed) socket.destroy();
  };
  const open = () =>
    new Promise<Socket>((resolve, reject) =>
      base(target, (err, socket) => {
        if (socket) track(socket);
        if (closed) return reject(new BurstFailure('CLOSED', 'sender closed during prepare'));
        return err ? reject(err) : resolve(socket!);
      }),
    );

  const sender: BurstSender = {
    mode: 'barrier',

    async prepare(requests) {
      const n = requests.length;
      const mode = options.warmup ?? 'auto';
      let warmed = 0;
      let connected = 0;
      let notKeptAlive = false;
      connections = requests.map(() => {
        const conn: BarrierConnection = { client: undefined as unknown as Client };
        conn.client = new Client(options.baseUrl.origin, {
          pipelining: 1,
          headersTimeout: options.timeoutMs,
          bodyTimeout: options.timeoutMs,
          keepAliveTimeout: 60_000,
          connect: (opts, callback) => {
            const spare = conn.spare;
            conn.spare = undefined;
            if (spare && !spare.destroyed) {
              conn.socket = spare;
              // Not synchronously: undici's connect path does not expect its callback inside the call.
              process.nextTick(callback, null, spare);
              return;
            }
            base(opts, (err, socket) => {
              if (socket) {
                track(socket);
                conn.socket = socket;
                connected++;
              }
              (callback as (e: Error | null, s: Socket | null) => void)(err, socket);
            });
          },
        });
        return conn;
      });
      if (mode !== 'off') {
        await runPhase(
          'warm-up',
          options.timeoutMs,
          mapPaced(connections, CONNECTIONS_IN_FLIGHT, async (conn) => {
            // Once the target closed a connection after its warm-up, warming more is wasted.
            if (notKeptAlive && mode === 'auto') return;
            const res = await conn.client.request({ method: 'GET', path: options.warmupPath });
            await res.body.dump();
            warmed++;
            // undici destroys a connection the target does not keep alive once the response is complete.
            if (conn.socket?.destroyed !== false) notKeptAlive = true;
          }),
          {
            progress: () =>
              `${connected}/${n} connections open, ${warmed}/${n} warm-ups (GET ${options.warmupPath}) answered`,
            timeoutHint: warmupTimeoutHint,
          },
        );
      }
      const fresh = connections.filter((c) => mode === 'off' || c.socket?.destroyed !== false);
      if (mode === 'on' && fresh.length > 0) {
        throw new BurstFailure(
          'WARMUP_NOT_KEEPALIVE',
          `in warm-up: the target closed ${fresh.length}/${n} connections after GET ${options.warmupPath} (no keep-alive)`,
          'set load.warmup: auto (the default), which opens a fresh connection before the burst when the target does not keep connections alive',
          'warm-up',
        );
      }
      let opened = 0;
      await runPhase(
        'connect',
        options.timeoutMs,
        mapPaced(fresh, CONNECTIONS_IN_FLIGHT, async (conn) => {
          conn.spare = await open();
          opened++;
        }),
        {
          progress: () => `${opened}/${fresh.length} fresh connections open`,
          timeoutHint: connectStalledHint,
        },
      );
      warnings =
        mode !== 'off' && fresh.length > 0
          ? [
              `the target ${notKeptAlive ? `closes the connection after GET ${options.warmupPath} (no keep-alive)` : 'closed connections after their warm-up'}: ${fresh.length}/${n} requests were sent on fresh connections opened before the burst, without a warm-up`,
            ]
          : [];
      prepared = requests;
    },

    async release() {
      const inFlight = prepared.map((req, i) =>
        sendWithUndici(connections[i]!.client, req, i, options.clock, options.timeoutMs),
      );
      const records = await Promise.all(inFlight.map((f) => f.done));
      return { records, sendSpreadMs: spreadMs(inFlight.map((f) => f.sentAtMs)), warnings };
    },

    async close() {
      closed = true;
      await Promise.all(connections.map((c) => c.client.destroy().catch(() => undefined)));
      for (const s of sockets) s.destroy();
    },
  };
  return sender;
};

interface BarrierConnection {
  client: Client;
  /** The socket undici uses now (from the connector). */
  socket?: Socket;
  /** A socket opened before the burst, handed to undici the next time it connects. */
  spare?: Socket;
}

/** What undici's connector needs to reach `url`, as undici's `Client` passes it. */
function connectTarget(url: URL): buildConnector.Options {
  return {
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    host: url.host,
    protocol: url.protocol,
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
    localAddress: null,
  };
}
