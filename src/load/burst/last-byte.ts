import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestRecord } from '../types.js';
import { BurstFailure, type BurstPhase } from './burst-failure.js';
import { type HoldCheck, LastByteShare, monotonicMs, Progress, ReleaseControl } from './last-byte-share.js';
import { CONNECTIONS_IN_FLIGHT } from './paced.js';
import { connectStalledHint, type PhaseReport, runPhase, warmupTimeoutHint } from './phase.js';
import { serializeRequest } from './raw-http1.js';
import { type ReleaseThread, startReleaseThread } from './release-thread.js';
import { type BurstSender, type SenderFactory, spreadMs } from './sender.js';

/**
 * `last-byte`: HTTP/1.1 last-byte synchronization (Kettle, "Smashing the state machine", 2023, §3.2,
 * after the "last-byte sync" trick from earlier race-condition tooling). Works against any HTTP/1.x
 * server: it needs the target to keep a partial request open, not to keep connections alive.
 *
 * ```
 * prepare:  warm-up   connect N sockets ─► GET warmupPath on each                     (all shares)
 *           ── barrier ──
 *           pre-send  replace each socket the target closed after its warm-up with a fresh one
 *                     ─► write request[i] minus 1 byte                                 (all shares)
 *           ── barrier ──
 *           hold      wait holdMs ─► check no pre-sent request was closed or answered  (all shares)
 * release:  for i in 0..N-1: write final byte of request[i]      (one synchronous loop, ~µs per write)
 * ```
 *
 * **Warm-up** (`warmup`, default `auto`). A warm connection has been accepted and served once, so the
 * target's per-connection setup is behind it. A target that does not keep connections alive (Python's
 * `http.server`, HTTP/1.0; gunicorn's `sync` worker; anything answering `Connection: close`) closes it
 * after the warm-up: `auto` then pre-sends on a fresh connection (the pre-sent bytes get it accepted
 * and read before the release all the same) and the burst carries a warning saying so; `on` fails the
 * burst with `WARMUP_NOT_KEEPALIVE`; `off` skips the warm-up (the first phase is then `connect`).
 *
 * **Phases.** Each phase has `timeoutMs` ms for all connections of all shares; one that runs out fails
 * the burst with `TIMEOUT` and a message naming the phase and how many connections got through it
 * (`in pre-send: 120/200 requests pre-sent after 30000 ms`); a connection that fails fails the burst
 * with its own code, named the same way. A target that closes or answers a pre-sent partial request
 * during the hold fails the burst with `PRESEND_REJECTED` (releasing would only record those failures as
 * if the target had answered them so). Every such failure is a `BurstFailure` with a `hint`.
 *
 * One raw `node:net` socket per request (TLS for `https:`), Nagle off, so each final byte leaves in its
 * own segment the moment it is written. For a bodiless request the held-back byte is the last `\n` of the
 * head's closing CRLF. Each record's `sentAtMs` is the clock right after its final-byte write;
 * `sendSpreadMs` is the spread of those. After release every request has `timeoutMs` ms to complete,
 * else `error: 'TIMEOUT'`; socket errors give the errno code (see `raw-http1.ts` for the list).
 *
 * **Release threads.** Each final-byte write runs the kernel's TCP send path (and, on loopback, the
 * receiver's) inline: several µs per write, so one loop over 200 connections takes 1–3 ms. With
 * `releaseThreads` > 1 the connections are split into that many contiguous shares; the main thread
 * releases the first and each `worker_threads` worker (`last-byte-worker.ts`) another, all started by one
 * shared word (the workers spin on it for the last moments; on 2 cores, where the woken target competes
 * for the cores, a worker's first write came a median 0.18 ms after the main thread's).
 * A share's sockets are opened in its own thread, since a socket belongs to the thread that opened it,
 * but every share goes through each phase before any share starts the next: a thread-pool server
 * (gunicorn `gthread`, 4 × 8 threads) hands a readable connection to a thread that blocks reading the
 * rest of the request, so one share's pre-sent requests could take every thread while another share
 * still waited for its warm-ups (5 of 10 trials timed out that way at N = 200 before the barrier).
 * `auto` uses one thread per `REQUESTS_PER_RELEASE_THREAD` requests, at most the machine's cores. On a
 * 2-core machine the target, woken by the first final byte, then takes a core from a release thread
 * while the burst is still being written, and that thread's share starts late now and then; measured
 * there (N = 200, 15 bursts per cell, quiet machine), 2 threads still gave the tighter bursts: send
 * spread median 1.58–1.61 ms vs 2.42–2.65 ms with 1, p90 3.1–3.2 vs 4.2–5.2 ms.
 */
export const lastByte: SenderFactory = (options) => {
  let own: LastByteShare | undefined;
  let threads: ReleaseThread[] = [];
  let control: Int32Array | undefined;
  let ownIndices: number[] = [];
  let warnings: string[] = [];
  let closed = false;

  const sender: BurstSender = {
    mode: 'last-byte',

    async prepare(requests) {
      const n = requests.length;
      const host = options.baseUrl.host;
      const messages = requests.map((r) => serializeRequest(r, host));
      const mode = options.warmup ?? 'auto';
      const warmup =
        mode === 'off'
          ? undefined
          : {
              bytes: serializeRequest(
                { index: -1, method: 'GET', path: options.warmupPath, headers: {} },
                host,
              ),
              path: options.warmupPath,
              required: mode === 'on',
            };
      const shares = splitEvenly(n, releaseThreadCount(options.releaseThreads, n));
      const c = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * ReleaseControl.WORDS));
      control = c;
      const inFlight = Math.max(1, Math.floor(CONNECTIONS_IN_FLIGHT / shares.length));
      own = new LastByteShare(options.baseUrl, options.timeoutMs, c, inFlight);
      const [first, ...rest] = shares;
      threads = rest.map(([start, end]) =>
        startReleaseThread({
          baseUrl: options.baseUrl.href,
          timeoutMs: options.timeoutMs,
          inFlight,
          warmup,
          messages: messages.slice(start, end),
          methods: requests.slice(start, end).map((r) => r.method),
          indices: requests.slice(start, end).map((r) => r.index),
          firstConnection: start,
          control: c.buffer as SharedArrayBuffer,
        }),
      );
      const [start, end] = first ?? [0, 0];
      ownIndices = requests.slice(start, end).map((r) => r.index);
      const report = phaseReport(c, n, options.warmupPath);

      if (threads.length > 0) {
        // Not the target's doing, so not under timeoutMs: a thread's start took over 300 ms on a busy machine.
        let started = 0;
        await runPhase(
          'start',
          THREAD_START_TIMEOUT_MS,
          Promise.all(threads.map((t) => t.started.then(() => void started++))),
          { progress: () => `${started}/${threads.length} release threads started` },
        );
      }
      const opening: BurstPhase = warmup ? 'warm-up' : 'connect';
      for (const t of threads) t.send({ type: 'open' });
      await runPhase(
        opening,
        options.timeoutMs,
        Promise.all([own.open(end - start, warmup), ...threads.map((t) => t.opened)]),
        report(opening),
      );
      for (const t of threads) t.send({ type: 'presend' });
      await runPhase(
        'pre-send',
        options.timeoutMs,
        Promise.all([
          own.presend(
            messages.slice(start, end),
            requests.slice(start, end).map((r) => r.method),
            warmup?.required ?? false,
          ),
          ...threads.map((t) => t.present),
        ]),
        report('pre-send'),
      );
      await sleep(options.holdMs);
      if (closed) throw new BurstFailure('CLOSED', 'sender closed during prepare');
      for (const t of threads) t.send({ type: 'check' });
      const checks = await runPhase(
        'hold',
        options.timeoutMs,
        Promise.all([own.held(), ...threads.map((t) => t.held)]),
        report('hold'),
      );
      const rejected = holdFailure(checks, n, options.holdMs);
      if (rejected) throw rejected;
      const replaced = Atomics.load(c, Progress.REPLACED);
      warnings =
        replaced > 0
          ? [
              `the target ${Atomics.load(c, Progress.NOT_KEPT_ALIVE) ? `closes the connection after GET ${options.warmupPath} (no keep-alive)` : 'closed connections after their warm-up'}: ${replaced}/${n} requests were pre-sent on fresh connections, without a warm-up`,
            ]
          : [];
    },

    async release() {
      const c = control;
      if (!c || !own) throw new Error('release() before prepare()');
      // Main-thread clock = monotonic clock + offset: how the workers' stamps are translated.
      const offset = options.clock() - monotonicMs();
      if (threads.length > 0) {
        Atomics.store(c, ReleaseControl.ARM, 1);
        Atomics.notify(c, ReleaseControl.ARM);
        // Wait (spinning: a timer would be ms late) until every worker spins on GO; on a machine too busy
        // to wake them within ARM_WAIT_MS, go anyway: the send spread will show it.
        const until = performance.now() + ARM_WAIT_MS;
        while (Atomics.load(c, ReleaseControl.SPINNING) < threads.length && performance.now() < until) {
          // spin
        }
      }
      Atomics.store(c, ReleaseControl.GO, 1);
      const ownStamps = own.release(options.clock);
      const [ownRecords, ...settled] = await Promise.all([
        own.settle(ownIndices, 0, ownStamps, options.clock),
        ...threads.map((t) => t.settled),
      ]);
      const records: RequestRecord[] = [...ownRecords];
      const stamps = [...ownStamps];
      for (const s of settled) {
        for (const r of s.records) records.push({ ...r, sentAtMs: r.sentAtMs + offset });
        for (const t of s.stamps) stamps.push(t + offset);
      }
      return { records, sendSpreadMs: spreadMs(stamps), warnings };
    },

    async close() {
      closed = true;
      own?.close();
      if (control) {
        Atomics.store(control, ReleaseControl.ABORT, 1);
        Atomics.store(control, ReleaseControl.GO, 1);
        Atomics.store(control, ReleaseControl.ARM, 1);
        Atomics.notify(control, ReleaseControl.ARM);
      }
      // Terminating a worker closes every socket its event loop still holds.
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
  return sender;
};

/** How far each phase got, from the burst's shared counters, and what to try when it does not finish. */
function phaseReport(
  c: Int32Array,
  n: number,
  warmupPath: string,
): (phase: Exclude<BurstPhase, 'start'>) => PhaseReport {
  const count = (word: number) => Atomics.load(c, word);
  return (phase) => {
    switch (phase) {
      case 'connect':
        return {
          progress: () => `${count(Progress.CONNECTED)}/${n} connections open`,
          timeoutHint: connectStalledHint,
        };
      case 'warm-up':
        return {
          progress: () =>
            `${count(Progress.CONNECTED)}/${n} connections open, ${count(Progress.WARMED)}/${n} warm-ups (GET ${warmupPath}) answered`,
          timeoutHint: warmupTimeoutHint,
          failureHint: (code) =>
            code === 'SOCKET_CLOSED' || code === 'ECONNRESET' || code === 'HTTP_PARSE_ERROR'
              ? `the target did not answer GET ${warmupPath} with an HTTP/1.x response: check load.warmupPath, or set load.warmup: off`
              : undefined,
        };
      case 'pre-send':
        return {
          progress: () => {
            const replaced = count(Progress.REPLACED);
            const fresh =
              replaced > 0
                ? ` (${replaced} on fresh connections, ${count(Progress.FRESH_OPEN)} of them open)`
                : '';
            return `${count(Progress.PRESENT)}/${n} requests pre-sent${fresh}`;
          },
          timeoutHint: connectStalledHint,
          failureHint: () =>
            'the target closed a connection while a request was being pre-sent on it: use sync: barrier, which sends each request whole',
        };
      case 'hold':
        return { progress: () => `${count(Progress.PRESENT)}/${n} requests pre-sent` };
    }
  };
}

/** The failure to throw when any share's hold check found a closed or answered pre-sent request. */
function holdFailure(checks: readonly HoldCheck[], n: number, holdMs: number): BurstFailure | undefined {
  const closed = checks.reduce((sum, c) => sum + c.closed, 0);
  const answered = checks.flatMap((c) => c.answered);
  if (closed === 0 && answered.length === 0) return undefined;
  const statuses = new Map<number, number>();
  for (const s of answered) statuses.set(s, (statuses.get(s) ?? 0) + 1);
  const parts = [
    ...(closed > 0 ? [`closed ${closed}`] : []),
    ...(answered.length > 0
      ? [`answered ${answered.length} (${[...statuses].map(([s, k]) => `${s}×${k}`).join(' ')})`]
      : []),
  ];
  return new BurstFailure(
    'PRESEND_REJECTED',
    `in hold: the target ${parts.join(' and ')} of ${n} pre-sent requests within holdMs ${holdMs} ms, before their final byte`,
    'the target (or a proxy in front of it) does not keep a partial request open: use sync: barrier, which sends each request whole',
    'hold',
  );
}

/** Requests per release thread when `releaseThreads` is `auto`. */
export const REQUESTS_PER_RELEASE_THREAD = 100;

/** How long the release threads may take to start (load their code), ms. */
const THREAD_START_TIMEOUT_MS = 30_000;

/** How long `release` waits for every worker to be spinning before it goes without them, ms. */
const ARM_WAIT_MS = 50;

/**
 * Release threads for a burst of `n` requests: `setting` if a number, else
 * ⌈n / REQUESTS_PER_RELEASE_THREAD⌉ capped at `cores` (`os.availableParallelism()` by default); never more
 * than `n`, at least 1.
 */
export function releaseThreadCount(
  setting: number | 'auto' | undefined,
  n: number,
  cores = availableParallelism(),
): number {
  const k =
    setting === undefined || setting === 'auto'
      ? Math.min(cores, Math.ceil(n / REQUESTS_PER_RELEASE_THREAD))
      : setting;
  return Math.max(1, Math.min(k, n));
}

/** `k` contiguous [start, end) ranges covering 0..n, sizes differing by at most one. */
export function splitEvenly(n: number, k: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(n / k) + (i < n % k ? 1 : 0);
    ranges.push([start, start + size]);
    start += size;
  }
  return ranges;
}
