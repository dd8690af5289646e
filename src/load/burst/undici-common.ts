import { Client } from 'undici';
import type { PreparedRequest, RequestRecord } from '../types.js';
import type { BurstSender, SenderOptions, SyncMode } from './sender.js';
import { bodySnippet, spreadMs } from './sender.js';

/** One undici `Client` per connection, so request i travels on connection i (no pooling, no pipelining). */
export function openClients(baseUrl: URL, count: number, timeoutMs: number): Client[] {
  return Array.from(
    { length: count },
    () =>
      new Client(baseUrl.origin, {
        pipelining: 1,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        keepAliveTimeout: 60_000,
      }),
  );
}

/**
 * Send `request` on `client` and resolve with its record; never rejects (a failure is a record with
 * `error`). `sentAtMs` is taken immediately before the request is handed to undici.
 */
export function sendWithUndici(
  client: Client,
  request: PreparedRequest,
  connection: number,
  clock: () => number,
  timeoutMs: number,
): { sentAtMs: number; done: Promise<RequestRecord> } {
  const sentAtMs = clock();
  const done = (async (): Promise<RequestRecord> => {
    try {
      const res = await client.request({
        method: request.method as 'GET',
        path: request.path,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      return {
        index: request.index,
        connection,
        sentAtMs,
        status: res.statusCode,
        latencyMs: clock() - sentAtMs,
        body: bodySnippet(text),
      };
    } catch (err) {
      return { index: request.index, connection, sentAtMs, error: errorCode(err) };
    }
  })();
  return { sentAtMs, done };
}

/** A short, stable name for a request failure: the errno code where there is one. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'TIMEOUT';
    if (e.code && e.code !== 'UND_ERR_SOCKET') return e.code;
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code) return cause.code;
    if (e.code) return e.code;
    if (e.message) return e.message;
  }
  return String(err);
}

export async function closeClients(clients: readonly Client[]): Promise<void> {
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
}

/**
 * A sender that gives each request its own undici connection and releases all of them in one
 * synchronous loop; nothing is opened in advance, so connection setup lands inside the burst (`naive`).
 */
export function undiciBurstSender(mode: SyncMode, options: SenderOptions): BurstSender {
  let clients: Client[] = [];
  let prepared: readonly PreparedRequest[] = [];
  return {
    mode,
    async prepare(requests) {
      prepared = requests;
      clients = openClients(options.baseUrl, requests.length, options.timeoutMs);
    },
    async release() {
      const inFlight = prepared.map((req, i) =>
        sendWithUndici(clients[i]!, req, i, options.clock, options.timeoutMs),
      );
      const records = await Promise.all(inFlight.map((f) => f.done));
      return { records, sendSpreadMs: spreadMs(inFlight.map((f) => f.sentAtMs)) };
    },
    async close() {
      await closeClients(clients);
    },
  };
}
