import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RequestRecord } from '../types.js';
import { BurstFailure } from './burst-failure.js';
import type {
  HoldCheck,
  ReleaseThreadCommand,
  ReleaseThreadInit,
  ReleaseThreadMessage,
} from './last-byte-share.js';
import { ConnectionFailure } from './raw-http1.js';

/**
 * The main thread's handle on a `last-byte` release thread (`last-byte-worker.ts` is the thread's side;
 * the protocol is described there): a command channel, and one promise per phase the thread reports.
 */
export interface ReleaseThread {
  worker: Worker;
  /** Start the thread's next phase. */
  send(command: ReleaseThreadCommand): void;
  /** Each resolves when the thread reports the phase done; all reject with the thread's failure. */
  started: Promise<void>;
  opened: Promise<void>;
  present: Promise<void>;
  held: Promise<HoldCheck>;
  /** The thread's stamps and records (in `monotonicMs` time) once all its responses settled. */
  settled: Promise<{ stamps: number[]; records: RequestRecord[] }>;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Awaited later, or never if another share fails first: a rejection must not go unhandled meanwhile.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Start a release thread for one share of the burst; it starts loading at once and opens on `open`. */
export function startReleaseThread(init: ReleaseThreadInit): ReleaseThread {
  const worker = new Worker(workerUrl(), { workerData: init });
  const started = deferred<void>();
  const opened = deferred<void>();
  const present = deferred<void>();
  const held = deferred<HoldCheck>();
  const settled = deferred<{ stamps: number[]; records: RequestRecord[] }>();
  const fail = (e: Error) => {
    for (const d of [started, opened, present, held, settled]) d.reject(e);
  };
  worker.on('message', (m: ReleaseThreadMessage) => {
    if (m.type === 'started') started.resolve();
    else if (m.type === 'opened') opened.resolve();
    else if (m.type === 'present') present.resolve();
    else if (m.type === 'held') held.resolve(m.check);
    else if (m.type === 'settled') settled.resolve({ stamps: m.stamps, records: m.records });
    else
      fail(
        m.phase
          ? new BurstFailure(m.code, m.message, m.hint, m.phase)
          : new ConnectionFailure(m.code, m.message),
      );
  });
  worker.on('error', (err) => fail(new ConnectionFailure('RELEASE_THREAD_FAILED', String(err))));
  worker.on('exit', (code) =>
    fail(new ConnectionFailure('RELEASE_THREAD_FAILED', `release thread exited (code ${code})`)),
  );
  return {
    worker,
    send: (command) => worker.postMessage(command),
    started: started.promise,
    opened: opened.promise,
    present: present.promise,
    held: held.promise,
    settled: settled.promise,
  };
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
