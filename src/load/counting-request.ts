import type { Client, Dispatcher } from 'undici';
import { errorCode } from './burst/undici-common.js';
import type { PreparedRequest, RequestRecord } from './types.js';

/** What one counted request measured: the `RequestRecord` fields it fills. */
export type CountedResponse = Pick<
  RequestRecord,
  'sentAtMs' | 'status' | 'latencyMs' | 'error' | 'body' | 'bodyBytes' | 'bodyLines'
>;

/** Most response-body characters kept for witnesses. */
const HEAD_CHARS = 512;

/**
 * One request sent with undici's `dispatch` and a handler that reads the response body through,
 * counting bytes and LF lines without keeping it (an export of hundreds of MiB passes through); the
 * first 512 characters are kept for witnesses.
 *
 * - `sentAtMs` is the moment undici writes the request: `onRequestStart` runs synchronously just before
 *   the socket write, so a request that waited for its connection to open or to become reusable is
 *   stamped when it really left, not when it was handed over.
 * - `latencyMs` runs from that write to the end of the body.
 * - No promise, stream or timer per request (the `request()` API costs a body stream, promises and, with
 *   an `AbortSignal.timeout`, a 30 s timer kept alive per request): a generator sending thousands per
 *   second spends less time in garbage collection. Deadlines are the caller's (`abort`).
 *
 * `done` is called exactly once, with the request itself; read the outcome with `result()`.
 */
export class CountingRequest implements Dispatcher.DispatchHandler {
  /** When the request was written, ms on the caller's clock; the dispatch time until then. */
  sentAtMs: number;
  #written = false;
  #controller: Dispatcher.DispatchController | undefined;
  #status: number | undefined;
  #endAtMs: number | undefined;
  #error: string | undefined;
  #bytes = 0;
  #lines = 0;
  #head = '';
  #done: ((r: CountingRequest) => void) | undefined;
  readonly #clock: () => number;

  private constructor(clock: () => number, done: (r: CountingRequest) => void) {
    this.#clock = clock;
    this.#done = done;
    this.sentAtMs = clock();
  }

  /** Dispatch `req` on `client`. Never throws: a request undici refuses completes with an error. */
  static send(
    client: Client,
    req: PreparedRequest,
    clock: () => number,
    done: (r: CountingRequest) => void,
  ): CountingRequest {
    const r = new CountingRequest(clock, done);
    try {
      client.dispatch(
        { method: req.method as Dispatcher.HttpMethod, path: req.path, headers: req.headers, body: req.body },
        r,
      );
    } catch (err) {
      r.onResponseError(undefined, err as Error);
    }
    return r;
  }

  /** True once the request was written to its socket. */
  get written(): boolean {
    return this.#written;
  }

  /** True once `done` was called. */
  get finished(): boolean {
    return this.#done === undefined;
  }

  /** Give up on the request (e.g. its deadline passed); `done` follows with the error's code. */
  abort(reason: Error): void {
    if (this.#controller) this.#controller.abort(reason);
    else this.onResponseError(undefined, reason);
  }

  /** The outcome, once `done` was called. */
  result(): CountedResponse {
    if (this.#error !== undefined) return { sentAtMs: this.sentAtMs, error: this.#error };
    return {
      sentAtMs: this.sentAtMs,
      status: this.#status,
      latencyMs: (this.#endAtMs ?? this.sentAtMs) - this.sentAtMs,
      body: this.#head,
      bodyBytes: this.#bytes,
      bodyLines: this.#lines,
    };
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.sentAtMs = this.#clock();
    this.#written = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#head.length < HEAD_CHARS) {
      this.#head += chunk.subarray(0, HEAD_CHARS - this.#head.length).toString('utf8');
    }
    this.#bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.#lines++;
  }

  onResponseEnd(): void {
    this.#endAtMs = this.#clock();
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.#error = errorCode(err);
    this.#finish();
  }

  #finish(): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(this);
  }
}
