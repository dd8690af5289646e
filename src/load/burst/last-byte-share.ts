import type { Socket } from 'node:net';
import type { RequestRecord } from '../types.js';
import type { Http1Response } from './http1-response.js';
import { ConnectionFailure, RawHttp1Connection, settleRecord, withTimeout } from './raw-http1.js';

/**
 * The connections of a `last-byte` burst that one thread releases: opened, warmed and pre-sent by
 * `prepare`, their final bytes written by `release`, their responses read by `settle`. The main thread
 * owns one share; with several release threads each worker (`last-byte-worker.ts`) owns another, since
 * a socket belongs to the event loop of the thread that opened it.
 */
export class LastByteShare {
  private readonly sockets: Socket[] = [];
  private connections: RawHttp1Connection[] = [];
  private finals: Buffer[] = [];
  private responses: Array<Promise<Http1Response>> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * @param baseUrl the target's origin (`http:` or `https:`)
   * @param timeoutMs deadline for connecting, for the warm-up response, and for each response after
   *   release, ms
   */
  constructor(
    private readonly baseUrl: URL,
    private readonly timeoutMs: number,
  ) {}

  /**
   * One connection per message: connect, send `warmup` (a serialized GET) and wait for its keep-alive
   * response, then write the message minus its final byte. Rejects with a `ConnectionFailure`
   * (errno code, `TIMEOUT`, `WARMUP_NOT_KEEPALIVE`, `CLOSED`) if any connection fails.
   *
   * @param messages serialized HTTP/1.1 requests (`serializeRequest`)
   * @param methods each message's method (the response parser needs it: a HEAD response has no body)
   * @param warmupPath the warm-up's path, for the error message
   */
  async prepare(
    messages: readonly Buffer[],
    methods: readonly string[],
    warmup: Buffer,
    warmupPath: string,
  ): Promise<void> {
    this.connections = await Promise.all(
      messages.map(async () => {
        const conn = await RawHttp1Connection.open(this.baseUrl, this.timeoutMs, (s) => this.sockets.push(s));
        if (this.closed) throw new ConnectionFailure('CLOSED', 'sender closed during prepare');
        const warmed = conn.response('GET');
        await conn.write(warmup);
        const res = await withTimeout(warmed, this.timeoutMs, conn);
        if (!res.keepAlive) {
          throw new ConnectionFailure(
            'WARMUP_NOT_KEEPALIVE',
            `the target closes the connection after GET ${warmupPath}; last-byte needs keep-alive`,
          );
        }
        return conn;
      }),
    );
    this.finals = messages.map((m) => m.subarray(m.length - 1));
    this.responses = this.connections.map((conn, i) => {
      const p = conn.response(methods[i]!);
      p.catch(() => undefined); // observed in settle(); a failure during the hold must not go unhandled
      return p;
    });
    await Promise.all(this.connections.map((conn, i) => conn.write(messages[i]!.subarray(0, -1))));
  }

  /**
   * The burst itself: one final-byte write and one `clock()` read per connection, nothing else, in one
   * synchronous loop. Returns each connection's stamp (the clock right after its write) and starts the
   * `timeoutMs` deadline of every response.
   */
  release(clock: () => number): number[] {
    const n = this.connections.length;
    const sentAtMs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      this.connections[i]!.socket.write(this.finals[i]!);
      sentAtMs[i] = clock();
    }
    this.timer = setTimeout(() => {
      for (const conn of this.connections) conn.fail('TIMEOUT');
    }, this.timeoutMs);
    return sentAtMs;
  }

  /**
   * Every connection's record once its response settles (status, latency, body snippet, or the failure
   * code), in connection order.
   *
   * @param indices each connection's request index
   * @param firstConnection the burst-wide number of this share's first connection
   * @param sentAtMs the stamps `release` returned, in `clock`'s time
   */
  async settle(
    indices: readonly number[],
    firstConnection: number,
    sentAtMs: readonly number[],
    clock: () => number,
  ): Promise<RequestRecord[]> {
    const records = await Promise.all(
      this.responses.map((response, i) =>
        settleRecord(
          { index: indices[i]!, connection: firstConnection + i, sentAtMs: sentAtMs[i]! },
          response,
          clock,
        ),
      ),
    );
    clearTimeout(this.timer);
    return records;
  }

  /** Destroy every socket; safe at any point and more than once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const s of this.sockets) s.destroy();
  }
}

/**
 * A clock shared by every thread of the process, ms: CLOCK_MONOTONIC through `process.hrtime.bigint()`,
 * so a worker's stamp and the main thread's compare directly. (`performance.now()` counts from each
 * thread's own start, and translating it through an offset taken once per thread put a worker's stamps
 * ≈ 0.09 ms off the main thread's.)
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// The release threads' protocol (`last-byte-worker.ts` is the worker's side, `last-byte.ts` the main's).

/** Indices of the `Int32Array` over the shared control buffer. */
export const ReleaseControl = { ARM: 0, SPINNING: 1, GO: 2, ABORT: 3, WORDS: 4 } as const;

/** What the main thread hands a release thread (structured-cloned: Buffers arrive as Uint8Arrays). */
export interface ReleaseThreadInit {
  baseUrl: string;
  timeoutMs: number;
  warmupPath: string;
  warmup: Uint8Array;
  messages: Uint8Array[];
  methods: string[];
  indices: number[];
  firstConnection: number;
  control: SharedArrayBuffer;
}

export type ReleaseThreadMessage =
  | { type: 'ready' }
  | { type: 'failed'; code: string; message: string }
  | { type: 'settled'; stamps: number[]; records: RequestRecord[] };
