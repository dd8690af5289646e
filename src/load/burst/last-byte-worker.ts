/**
 * A `last-byte` release thread (a `worker_threads` worker started by `last-byte.ts`): it owns one share of
 * the burst's connections and writes their final bytes when the main thread says go.
 *
 * Protocol (messages to the parent, then the shared control words of `ReleaseControl`):
 * 1. `prepare` its share (connect, warm, pre-send), then post `{ type: 'ready' }`, or
 *    `{ type: 'failed', code, message }` and exit;
 * 2. sleep on `ARM` (`Atomics.wait`), and once armed count itself in `SPINNING` and spin on `GO` (a futex
 *    wake takes tens of µs; a spinning thread saw the main thread's store within 1–3 µs on 2 cores);
 * 3. on `GO`, unless `ABORT` is set, run the release loop and post `{ type: 'settled', stamps, records }`
 *    (`stamps` and the records' `sentAtMs` in `monotonicMs` time) once every response has settled.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  LastByteShare,
  monotonicMs,
  ReleaseControl,
  type ReleaseThreadInit,
  type ReleaseThreadMessage,
} from './last-byte-share.js';

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function main(init: ReleaseThreadInit, post: (m: ReleaseThreadMessage) => void): Promise<void> {
  const control = new Int32Array(init.control);
  const share = new LastByteShare(new URL(init.baseUrl), init.timeoutMs);
  try {
    await share.prepare(init.messages.map(buf), init.methods, buf(init.warmup), init.warmupPath);
  } catch (err) {
    share.close();
    const e = err as { code?: string; message?: string };
    post({ type: 'failed', code: e.code ?? 'RELEASE_THREAD_FAILED', message: e.message ?? String(err) });
    return;
  }
  post({ type: 'ready' });
  Atomics.wait(control, ReleaseControl.ARM, 0);
  Atomics.add(control, ReleaseControl.SPINNING, 1);
  while (Atomics.load(control, ReleaseControl.GO) === 0) {
    // spin: a futex wake-up here would add tens of µs to the start of this share
  }
  if (Atomics.load(control, ReleaseControl.ABORT) !== 0) {
    share.close();
    return;
  }
  const stamps = share.release(monotonicMs);
  const records = await share.settle(init.indices, init.firstConnection, stamps, monotonicMs);
  post({ type: 'settled', stamps, records });
  share.close();
}

const init = workerData as ReleaseThreadInit | undefined;
if (parentPort && init?.control instanceof SharedArrayBuffer) {
  const port = parentPort;
  void main(init, (m) => port.postMessage(m));
}
