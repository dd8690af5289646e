/**
 * The phases a burst goes through before its release, in order (`phase.ts` runs each under a deadline):
 *
 * - `start`: start the release threads (`last-byte` with `releaseThreads` > 1), so none of the others
 *   counts a thread's start-up against its deadline;
 * - `connect`: open every connection (modes that do not warm up, and fresh connections);
 * - `warm-up`: open every connection and send one request to the warm-up path on each;
 * - `pre-send`: write what each mode sends ahead (`last-byte`: all of a request but its final byte);
 * - `hold`: wait `holdMs`, then check that the target kept every pre-sent request open and unanswered.
 */
export type BurstPhase = 'start' | 'connect' | 'warm-up' | 'pre-send' | 'hold';

/**
 * A burst that could not run as written, thrown by a sender's `prepare`. The run turns it into an
 * `unknown` trial whose reason is `code: message`, with `hint` beside it (what would work instead).
 *
 * Codes: `TIMEOUT` (a phase did not finish within `timeoutMs`; the message names the phase and how
 * many connections got through it), `WARMUP_NOT_KEEPALIVE` (`warmup: on` but the target closed a
 * connection after its warm-up), `PRESEND_REJECTED` (the target closed or answered a pre-sent partial
 * request during the hold), `H2_NOT_SUPPORTED` / `H2_NOT_NEGOTIATED` (`single-packet` against a target
 * that does not speak HTTP/2), or a connection's own failure code (`ECONNREFUSED`, `SOCKET_CLOSED`,
 * `HTTP_PARSE_ERROR` …) in the phase where it happened.
 */
export class BurstFailure extends Error {
  override name = 'BurstFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly phase?: BurstPhase,
  ) {
    super(message);
  }
}
