import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PreparedRequest, RequestRecord } from '../types.js';
import {
  LastByteShare,
  monotonicMs,
  ReleaseControl,
  type ReleaseThreadInit,
  type ReleaseThreadMessage,
} from './last-byte-share.js';
import { ConnectionFailure, serializeRequest } from './raw-http1.js';
import { type BurstSender, type SenderFactory, spreadMs } from './sender.js';

/**
 * `last-byte`: HTTP/1.1 last-byte synchronization (Kettle, "Smashing the state machine", 2023, §3.2,
 * after the "last-byte sync" trick from earlier race-condition tooling).
 *
 * ```
 * prepare:  connect N sockets ─► GET warmupPath on each (keep-alive) ─► write request[i] minus 1 byte
 *           ─► wait holdMs (the server has parsed everything but cannot finish any request)
 * release:  for i in 0..N-1: write final byte of request[i]      (one synchronous loop, ~µs per write)
 * ```
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
 * A share's sockets are opened in its own thread, since a socket belongs to the thread that opened it.
 * `auto` uses one thread per `REQUESTS_PER_RELEASE_THREAD` requests, at most the machine's cores. On a
 * 2-core machine the target, woken by the first final byte, then takes a core from a release thread
 * while the burst is still being written, and that thread's share starts late now and then; measured
 * there (N = 200, 15 bursts per cell, quiet machine), 2 threads still gave the tighter bursts: send
 * spread median 1.58–1.61 ms vs 2.42–2.65 ms with 1, p90 3.1–3.2 vs 4.2–5.2 ms.
 */
export const lastByte: SenderFactory = (options) => {
  const own = new LastByteShare(options.baseUrl, options.timeoutMs);
  let threads: ReleaseThread[] = [];
  let control: Int32Array | undefined;
  let ownIndices: number[] = [];
  let closed = false;

  const sender: BurstSender = {
    mode: 'last-byte',

    async prepare(requests) {
      const host = options.baseUrl.host;
      const messages = requests.map((r) => serializeRequest(r, host));
      const warmup = serializeRequest(
        { index: -1, method: 'GET', path: options.warmupPath, headers: {} },
        host,
      );
      const shares = splitEvenly(
        requests.length,
        releaseThreadCount(options.releaseThreads, requests.length),
      );
      control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * ReleaseControl.WORDS));
      const [first, ...rest] = shares;
      threads = rest.map(([start, end]) =>
        startReleaseThread({
          baseUrl: options.baseUrl.href,
          timeoutMs: options.timeoutMs,
          warmupPath: options.warmupPath,
          warmup,
          messages: messages.slice(start, end),
          methods: requests.slice(start, end).map((r) => r.method),
          indices: requests.slice(start, end).map((r) => r.index),
          firstConnection: start,
          control: control!.buffer as SharedArrayBuffer,
        }),
      );
      const [start, end] = first ?? [0, 0];
      const ownRequests: readonly PreparedRequest[] = requests.slice(start, end);
      ownIndices = ownRequests.map((r) => r.index);
      await Promise.all([
        own.prepare(
          messages.slice(start, end),
          ownRequests.map((r) => r.method),
          warmup,
          options.warmupPath,
        ),
        ...threads.map((t) => t.ready),
      ]);
      if (closed) throw new ConnectionFailure('CLOSED', 'sender closed during prepare');
      await sleep(options.holdMs);
    },

    async release() {
      const c = control;
      if (!c) throw new Error('release() before prepare()');
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
      return { records, sendSpreadMs: spreadMs(stamps) };
    },

    async close() {
      closed = true;
      own.close();
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

/** Requests per release thread when `releaseThreads` is `auto`. */
export const REQUESTS_PER_RELEASE_THREAD = 100;

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

interface ReleaseThread {
  worker: Worker;
  /** Resolves when the worker's share is pre-sent; rejects with its `ConnectionFailure`. */
  ready: Promise<void>;
  /** The worker's stamps and records (in `monotonicMs` time) once all its responses settled. */
  settled: Promise<{ stamps: number[]; records: RequestRecord[] }>;
}

function startReleaseThread(init: ReleaseThreadInit): ReleaseThread {
  const worker = new Worker(workerUrl(), { workerData: init });
  let onReady: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let onSettled:
    | { resolve: (v: { stamps: number[]; records: RequestRecord[] }) => void; reject: (e: Error) => void }
    | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = { resolve, reject };
  });
  const settled = new Promise<{ stamps: number[]; records: RequestRecord[] }>((resolve, reject) => {
    onSettled = { resolve, reject };
  });
  // Both are awaited later (or never, if another share fails): a rejection must not go unhandled first.
  ready.catch(() => undefined);
  settled.catch(() => undefined);
  const fail = (e: Error) => {
    onReady?.reject(e);
    onSettled?.reject(e);
  };
  worker.on('message', (m: ReleaseThreadMessage) => {
    if (m.type === 'ready') onReady?.resolve();
    else if (m.type === 'failed') fail(new ConnectionFailure(m.code, m.message));
    else onSettled?.resolve({ stamps: m.stamps, records: m.records });
  });
  worker.on('error', (err) => fail(new ConnectionFailure('RELEASE_THREAD_FAILED', String(err))));
  worker.on('exit', (code) =>
    fail(new ConnectionFailure('RELEASE_THREAD_FAILED', `release thread exited (code ${code})`)),
  );
  return { worker, ready, settled };
}

/**
 * The compiled worker script. From the TypeScript sources (the test runner) this is the build's copy,
 * so `npm run build` must have run (`npm test` does); a clear error says so if it is missing.
 */
function workerUrl(): URL {
  const url = import.meta.url.endsWith('.ts')
    ? new URL('../../../dist/src/load/burst/last-byte-worker.js', import.meta.url)
    : new URL('./last-byte-worker.js', import.meta.url);
  if (!existsSync(url)) {
    throw new Error(`last-byte release threads need ${fileURLToPath(url)}; run \`npm run build\` first`);
  }
  return url;
}
