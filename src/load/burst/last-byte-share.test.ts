import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { monotonicMs } from './last-byte-share.js';

/** The built module: a worker cannot load TypeScript (`npm test` builds first). */
const built = new URL('../../../dist/src/load/burst/last-byte-share.js', import.meta.url);

/**
 * Each side stamps, then raises a shared flag; the other spins until it sees the flag and stamps. A
 * stamp taken after seeing the flag can never be earlier than the one taken before raising it, in
 * either direction, if both threads read one clock: causality, not speed, so no timing bound is used.
 */
describe('monotonicMs', () => {
  it('orders stamps across threads: seen-after is never earlier than set-before, either way', async () => {
    expect(existsSync(built), `${fileURLToPath(built)} (run npm run build)`).toBe(true);
    const shared = new SharedArrayBuffer(32);
    const flags = new Int32Array(shared, 0, 2);
    const stamps = new Float64Array(shared, 8, 1);
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(workerData.url).then(({ monotonicMs }) => {
         const flags = new Int32Array(workerData.shared, 0, 2);
         const stamps = new Float64Array(workerData.shared, 8, 1);
         Atomics.store(flags, 1, -1);
         for (let i = 1; i <= 40; i += 2) {
           while (Atomics.load(flags, 0) !== i) {}
           stamps[0] = monotonicMs();            // main → worker: seen after main's stamp
           Atomics.store(flags, 1, i);
           while (Atomics.load(flags, 0) !== i + 1) {}
           stamps[0] = monotonicMs();            // worker → main: stamped before raising the flag
           Atomics.store(flags, 1, i + 1);
         }
       });`,
      { eval: true, workerData: { url: built.href, shared } },
    );
    try {
      while (Atomics.load(flags, 1) !== -1) await new Promise((r) => setTimeout(r, 5));
      const toWorker: number[] = [];
      const toMain: number[] = [];
      for (let i = 1; i <= 40; i += 2) {
        const before = monotonicMs();
        Atomics.store(flags, 0, i);
        while (Atomics.load(flags, 1) !== i) {
          // spin
        }
        toWorker.push(stamps[0]! - before);
        Atomics.store(flags, 0, i + 1);
        while (Atomics.load(flags, 1) !== i + 1) {
          // spin
        }
        toMain.push(monotonicMs() - stamps[0]!);
      }
      // 1 µs of slack for the float conversion of ns.
      expect(Math.min(...toWorker)).toBeGreaterThanOrEqual(-0.001);
      expect(Math.min(...toMain)).toBeGreaterThanOrEqual(-0.001);
    } finally {
      await worker.terminate();
    }
  });
});
