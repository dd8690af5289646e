import type { Socket } from 'node:net';
import type { RequestRecord } from '../types.js';
import { BurstFailure, type BurstPhase } from './burst-failure.js';
import type { Http1Response } from './http1-response.js';
import { mapPaced } from './paced.js';
import { RawHttp1Connection, settleRecord } from './raw-http1.js';

/**
 * The connections of a `last-byte` burst that one thread releases. The main thread owns one share; with
 * several release threads each worker (`last-byte-worker.ts`) owns another, since a socket belongs to the
 * event loop of the thread that opened it. `last-byte.ts` runs every share through the same phases, with
 * a barrier between phases, so no share pre-sends while another still warms up:
 *
 * ```
 * open     connect each connection; with a warm-up, send it and read its response   (warm-up | connect)
 *          (a few at a time: `paced.ts`)
 * presend  replace the connections the target closed, write each message but its final byte (pre-send)
 * held     after the hold: which pre-sent requests the target closed or answered already       (hold)
 * release  write every final byte (one synchronous loop) ─► settle: read every response
 * ```
 *
 * Progress goes into the burst's shared counters (`Progress` words of the control buffer), so a phase
 * that times out can say how far every share got. No phase sets a timer of its own: the caller's
 * deadline covers the phase, and `close()` ends whatever is still pending.
 */
export class LastByteShare {
  private readonly sockets: Socket[] = [];
  private connections: Array<RawHttp1Connection | undefined> = [];
  private finals: Buffer[] = [];
  private responses: Array<Promise<Http1Response>> = [];
  private answered: Array<number | undefined> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * @param baseUrl the target's origin (`http:` or `https:`)
   * @param timeoutMs deadline for each response after release, ms
   * @param control the burst's shared control words (`ReleaseControl`); this share adds to the counters
   * @param inFlight connections this share opens at once (`paced.ts`)
   */
  constructor(
    private readonly baseUrl: URL,
    private readonly timeoutMs: number,
    private readonly control: Int32Array,
    private readonly inFlight: number,
  ) {}

  /**
   * Phase `warm-up` (or `connect` without `warmup`): open `count` connections; with `warmup`, send it on
   * each and read its response. A connection the target does not keep alive after its warm-up
   * (`Connection: close`, HTTP/1.0 without keep-alive, a body delimited by the close) is dropped, to be
   * replaced by a fresh one in `presend`, and from then on no share warms another connection (each would
   * be dropped too); with `warmup.required` that rejects with `BurstFailure` `WARMUP_NOT_KEEPALIVE`
   * instead. Rejects with the `ConnectionFailure` of a connection that failed.
   */
  async open(count: number, warmup?: { bytes: Buffer; path: string; required: boolean }): Promise<void> {
    const slots = Array.from({ length: count }, (_, i) => i);
    this.connections = await mapPaced(slots, this.inFlight, async () => {
      // Once any share found the target closing connections after a warm-up, warming more is wasted.
      if (warmup && Atomics.load(this.control, Progress.NOT_KEPT_ALIVE) !== 0) {
        Atomics.add(this.control, Progress.REPLACED, 1);
        return undefined;
      }
      const conn = await this.connect();
      if (!warmup) return conn;
      const warmed = conn.response('GET');
      await conn.write(warmup.bytes);
      const res = await warmed;
      Atomics.add(this.control, Progress.WARMED, 1);
      if (res.keepAlive) return conn;
      conn.socket.destroy();
      if (warmup.required) {
        throw new BurstFailure(
          'WARMUP_NOT_KEEPALIVE',
          `in warm-up: the target closes the connection after GET ${warmup.path} (${res.status}, no keep-alive)`,
          'set load.warmup: auto (the default), which pre-sends each request on a fresh connection when the target does not keep connections alive',
          'warm-up',
        );
      }
      Atomics.store(this.control, Progress.NOT_KEPT_ALIVE, 1);
      Atomics.add(this.control, Progress.REPLACED, 1);
      return undefined;
    });
  }

  /**
   * Phase `pre-send`: every connection dropped after its warm-up, or closed by the target since (e.g. its
   * keep-alive timeout ran out), is replaced by a fresh one, unless `warmRequired` (then rejects with
   * `WARMUP_NOT_KEEPALIVE`); then each message but its final byte is written.
   *
   * @param messages serialized HTTP/1.1 requests (`serializeRequest`), one per connection
   * @param methods each message's method (the response parser needs it: a HEAD response has no body)
   */
  async presend(
    messages: readonly Buffer[],
    methods: readonly string[],
    warmRequired: boolean,
  ): Promise<void> {
    const stale = this.connections.filter((c) => c?.failure !== undefined).length;
    if (warmRequired && stale > 0) {
      throw new BurstFailure(
        'WARMUP_NOT_KEEPALIVE',
        `in pre-send: the target closed ${stale} warmed connection(s) before the pre-send (a keep-alive timeout shorter than the warm-up phase)`,
        'set load.warmup: auto (the default), which replaces a closed connection with a fresh one',
        'pre-send',
      );
    }
    this.finals = messages.map((m) => m.subarray(m.length - 1));
    const presendOn = async (conn: RawHttp1Connection, i: number) => {
      const response = conn.response(methods[i]!);
      // Observed by held() and settle(); a failure during the hold must not go unhandled.
      response.then(
        (r) => {
          this.answered[i] = r.status;
        },
        () => undefined,
      );
      this.responses[i] = response;
      await conn.write(messages[i]!.subarray(0, -1));
      Atomics.add(this.control, Progress.PRESENT, 1);
    };
    const fresh: number[] = [];
    const warm: number[] = [];
    this.connections.forEach((conn, i) => {
      if (conn && conn.failure === undefined) warm.push(i);
      else {
        if (conn) Atomics.add(this.control, Progress.REPLACED, 1);
        fresh.push(i);
      }
    });
    await Promise.all([
      ...warm.map((i) => presendOn(this.connections[i]!, i)),
      mapPaced(fresh, this.inFlight, async (i) => {
        const conn = await this.connect();
        Atomics.add(this.control, Progress.FRESH_OPEN, 1);
        this.connections[i] = conn;
        await presendOn(conn, i);
      }),
    ]);
  }

  /**
   * Phase `hold`, at its end: the pre-sent requests the target has closed or answered before their final
   * byte. Any of either means the burst cannot be released as written.
   */
  held(): HoldCheck {
    let closed = 0;
    const answered: number[] = [];
    this.connections.forEach((conn, i) => {
      const status = this.answered[i];
      if (status !== undefined) answered.push(status);
      else if (conn?.failure !== undefined) closed++;
    });
    return { closed, answered };
  }

  /**
   * The burst itself: one final-byte write and one `clock()` read per connection, nothing else, in one
   * synchronous loop. Returns each connection's stamp (the clock right after its write) and starts the
   * `timeoutMs` deadline of every response.
   */
  release(clock: () => number): number[] {
    const connections = this.connections as RawHttp1Connection[];
    const n = connections.length;
    const sentAtMs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      connections[i]!.socket.write(this.finals[i]!);
      sentAtMs[i] = clock();
    }
    this.timer = setTimeout(() => {
      for (const conn of connections) conn.fail('TIMEOUT');
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

  private async connect(): Promise<RawHttp1Connection> {
    if (this.closed) throw new BurstFailure('CLOSED', 'sender closed during prepare');
    const conn = await RawHttp1Connection.open(this.baseUrl, undefined, (s) => this.sockets.push(s));
    if (this.closed) throw new BurstFailure('CLOSED', 'sender closed during prepare');
    Atomics.add(this.control, Progress.CONNECTED, 1);
    return conn;
  }
}

/** What `held()` found: pre-sent requests the target closed, and the statuses of those it answered. */
export interface HoldCheck {
  closed: number;
  answered: number[];
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

/** Indices of the `Int32Array` over the shared control buffer: the release's words. */
export const ReleaseControl = { ARM: 0, SPINNING: 1, GO: 2, ABORT: 3, WORDS: 10 } as const;

/** Indices of the same buffer's progress counters, summed over every share. */
export const Progress = {
  /** Connections opened (fresh replacements included). */
  CONNECTED: 4,
  /** Warm-up responses read. */
  WARMED: 5,
  /** Connections replaced by a fresh one: not kept alive after the warm-up, or closed since. */
  REPLACED: 6,
  /** Requests pre-sent (all but their final byte written). */
  PRESENT: 7,
  /** Set (1) once a warm-up found the target closing its connection after the response. */
  NOT_KEPT_ALIVE: 8,
  /** Fresh connections opened in the pre-send to replace those the target closed. */
  FRESH_OPEN: 9,
} as const;

/** What the main thread hands a release thread (structured-cloned: Buffers arrive as Uint8Arrays). */
export interface ReleaseThreadInit {
  baseUrl: string;
  timeoutMs: number;
  /** Connections the thread's share opens at once. */
  inFlight: number;
  /** The serialized warm-up request and its path, or undefined for `warmup: off`. */
  warmup?: { bytes: Uint8Array; path: string; required: boolean };
  messages: Uint8Array[];
  methods: string[];
  indices: number[];
  firstConnection: number;
  control: SharedArrayBuffer;
}

/** From the main thread to a release thread: start the next phase. */
export type ReleaseThreadCommand = { type: 'open' } | { type: 'presend' } | { type: 'check' };

/** From a release thread to the main thread: a phase done, a failure, or the settled burst. */
export type ReleaseThreadMessage =
  | { type: 'started' }
  | { type: 'opened' }
  | { type: 'present' }
  | { type: 'held'; check: HoldCheck }
  | { type: 'failed'; code: string; message: string; hint?: string; phase?: BurstPhase }
  | { type: 'settled'; stamps: number[]; records: RequestRecord[] };
