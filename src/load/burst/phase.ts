import { BurstFailure, type BurstPhase } from './burst-failure.js';

/** What `runPhase` needs to name a phase that failed or ran out of time. */
export interface PhaseReport {
  /** How far the phase got, e.g. `120/200 requests pre-sent`; read when it fails or times out. */
  progress: () => string;
  /** What to try instead when the phase times out, for the user. */
  timeoutHint?: string;
  /** What to try instead when a connection fails with `code` in this phase, if anything is known. */
  failureHint?: (code: string) => string | undefined;
}

/**
 * Await `work`, one phase of a burst's preparation over all its connections, under a deadline of
 * `timeoutMs` ms from now. Rejects with a `BurstFailure` naming the phase and its progress:
 *
 * - `TIMEOUT`, message `in pre-send: 120/200 requests pre-sent after 30000 ms`, when the deadline
 *   passes first (`work` keeps running: the caller closes the sender, which ends it);
 * - the failure's own code when `work` rejects, message `in <phase>: <its message> (<progress>)`; a
 *   `BurstFailure` that already names its phase passes through unchanged.
 *
 * A rejection of `work` after the deadline is swallowed, so closing the sender cannot leave it unhandled.
 */
export async function runPhase<T>(
  phase: BurstPhase,
  timeoutMs: number,
  work: Promise<T>,
  report: PhaseReport,
): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BurstFailure(
            'TIMEOUT',
            `in ${phase}: ${report.progress()} after ${timeoutMs} ms`,
            report.timeoutHint,
            phase,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (err) {
    if (err instanceof BurstFailure && err.phase) throw err;
    const e = err as { code?: string; message?: string; hint?: string };
    const code = e.code ?? 'FAILED';
    const what = e.message && e.message !== code ? e.message : code;
    throw new BurstFailure(
      code,
      `in ${phase}: ${what} (${report.progress()})`,
      e.hint ?? report.failureHint?.(code),
      phase,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Hint for a `connect` (or `pre-send`) phase that ran out of time: connections that open slowly or not
 * at all. A full listen backlog makes the kernel drop a handshake, which the client repeats after 1 s,
 * 3 s, 7 s …; Python's `socketserver` (hence `http.server`) keeps a backlog of 5, and its single-threaded
 * `HTTPServer` blocks reading the first connection, so no further connection opens until the release.
 */
export const connectStalledHint =
  "the target accepts connections more slowly than the burst opens them (a full listen backlog drops a new connection for 1 s or more; Python's socketserver keeps 5: raise request_queue_size), or it does not accept more until it has read a whole request (one connection at a time): raise load.timeoutMs, lower load.requests, or use sync: naive, which sends each request as soon as its connection opens";

/** Hint for a `warm-up` phase that ran out of time. */
export const warmupTimeoutHint =
  'the target did not answer every warm-up (it may serve fewer kept-alive connections at once than the burst opens): check load.warmupPath, lower load.requests, or set load.warmup: off';
