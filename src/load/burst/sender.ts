import type { PreparedRequest, RequestRecord } from '../types.js';

/**
 * How a burst's requests are released together. One sender per sync mode, one file each
 * (`naive.ts`, `barrier.ts`, `last-byte.ts`, `single-packet.ts`); `registry.ts` maps the scenario's
 * `sync:` value to its factory.
 *
 * Lifecycle: `prepare` (open and warm connections, pre-send what the mode allows) → `release` (make
 * every request complete as close to the same instant as possible, then collect responses) → `close`.
 * `close` must be safe to call at any point, also after a failed `prepare`. A `prepare` that cannot get
 * the burst ready throws a `BurstFailure` (`burst-failure.ts`: code, the phase, a hint); each phase runs
 * under `timeoutMs` (`phase.ts`).
 */
export interface BurstSender {
  readonly mode: SyncMode;
  prepare(requests: readonly PreparedRequest[]): Promise<void>;
  release(): Promise<BurstOutcome>;
  close(): Promise<void>;
}

export interface BurstOutcome {
  /** One record per prepared request, in request order. */
  records: RequestRecord[];
  /** Client-side time between the first and the last release write, ms. */
  sendSpreadMs: number;
  /** What the burst did differently from what its mode promises, e.g. connections not warmed. */
  warnings?: string[];
}

export type SyncMode = 'naive' | 'barrier' | 'last-byte' | 'single-packet';

export type WarmupMode = 'auto' | 'on' | 'off';

export interface SenderOptions {
  /** Base URL of the target, e.g. `http://127.0.0.1:4100`. */
  baseUrl: URL;
  /** Milliseconds since the trial started; every time in a record uses this clock. */
  clock: () => number;
  /** Per-request deadline after release, ms. A request still open then gets `error: 'TIMEOUT'`. */
  timeoutMs: number;
  /** Path requested once on each connection during `prepare` to open and warm it (modes that warm). */
  warmupPath: string;
  /**
   * Whether to warm each connection before the burst (`barrier`, `last-byte`, `single-packet`; default
   * `auto`): `auto` warms, and where the target does not keep a connection alive after its warm-up, uses
   * a fresh connection opened before the burst instead; `on` requires a kept-alive warm-up (else the
   * burst fails with `WARMUP_NOT_KEEPALIVE`); `off` opens fresh connections without a warm-up.
   */
  warmup?: WarmupMode;
  /** How long `last-byte` / `single-packet` wait between pre-sending and releasing, ms. */
  holdMs: number;
  /** Requests per HTTP/2 connection (`single-packet`). */
  streamsPerConnection: number;
  /**
   * Threads that write a `last-byte` burst's final bytes in parallel (default `auto`: one per 100
   * requests, at most the machine's cores; see `last-byte.ts`). Other modes ignore it.
   */
  releaseThreads?: number | 'auto';
}

export type SenderFactory = (options: SenderOptions) => BurstSender;

/** Keep the first bytes of a response body for witnesses. */
export function bodySnippet(text: string, maxChars = 512): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** Spread (max − min) of a list of times, ms; 0 for fewer than two. */
export function spreadMs(times: readonly number[]): number {
  if (times.length < 2) return 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return max - min;
}
