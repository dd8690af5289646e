/**
 * A `last-byte` release thread (a `worker_threads` worker started by `last-byte.ts`): it owns one share of
 * the burst's connections and writes their final bytes when the main thread says go.
 *
 * Protocol (messages to and from the parent, then the shared control words of `ReleaseControl`):
 * 1. post `{ type: 'started' }`; on `{ type: 'open' }` (sent once every thread has started), open its
 *    share (connect, warm up), then post `{ type: 'opened' }`;
 * 2. on `{ type: 'presend' }` (sent once every share is open), pre-send, then post `{ type: 'present' }`;
 * 3. on `{ type: 'check' }` (sent after the hold), post `{ type: 'held', check }`;
 * 4. sleep on `ARM` (`Atomics.wait`), and once armed count itself in `SPINNING` and spin on `GO` (a futex
 *    wake takes tens of µs; a spinning thread saw the main thread's store within 1–3 µs on 2 cores);
 * 5. on `GO`, unless `ABORT` is set, run the release loop and post `{ type: 'settled', stamps, records }`
 *    (`stamps` and the records' `sentAtMs` in `monotonicMs` time) once every response has settled.
 *
 * A phase that fails posts `{ type: 'failed', code, message, hint?, phase? }` and the thread exits. The
 * main thread ends a thread that is no longer needed by terminating it.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { BurstPhase } from './burst-failure.js';
import {
  LastByteShare,
  monotonicMs,
  ReleaseControl,
  type ReleaseThreadCommand,
  type ReleaseThreadInit,
  type ReleaseThreadMessage,
} from './last-byte-share.js';

const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

async function main(init: ReleaseThreadInit, port: MessagePort): Promise<void> {
  const post = (m: ReleaseThreadMessage) => port.postMessage(m);
  const commands: ReleaseThreadCommand[] = [];
  let wake: (() => void) | undefined;
  port.on('message', (c: ReleaseThreadCommand) => {
    commands.push(c);
    wake?.();
  });
  const next = async (type: ReleaseThreadCommand['type']): Promise<void> => {
    while (commands.length === 0) await new Promise<void>((r) => (wake = r));
    const c = commands.shift()!;
    if (c.type !== type) throw new Error(`release thread expected '${type}', got '${c.type}'`);
  };

  const control = new Int32Array(init.control);
  const share = new LastByteShare(new URL(init.baseUrl), init.timeoutMs, control, init.inFlight);
  const warmup = init.warmup && { ...init.warmup, bytes: buf(init.warmup.bytes) };
  try {
    post({ type: 'started' });
    await next('open');
    await share.open(init.messages.length, warmup);
    post({ type: 'opened' });
    await next('presend');
    await share.presend(init.messages.map(buf), init.methods, warmup?.required ?? false);
    post({ type: 'present' });
    await next('check');
    post({ type: 'held', check: share.held() });
  } catch (err) {
    share.close();
    const e = err as { code?: string; message?: string; hint?: string; phase?: BurstPhase };
    post({
      type: 'failed',
      code: e.code ?? 'RELEASE_THREAD_FAILED',
      message: e.message ?? String(err),
      hint: e.hint,
      phase: e.phase,
    });
    port.unref();
    return;
  }
  port.unref();
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
if (parentPort && init?.control instanceof SharedArrayBuffer) void main(init, parentPort);
