import { z } from 'zod';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `bandwidth`: passes data through at a limited rate (Toxiproxy `toxics/bandwidth.go`). Large chunks are
 * sent in 100 ms slices; the time a slice needs is carried over, so the average rate holds.
 *
 * ```yaml
 * - { type: bandwidth, stream: downstream, attributes: { rate: 100 } }   # 100 KB/s
 * ```
 */
export const type = 'bandwidth';

export const attributes = z.strictObject({
  rate: z.int().positive().meta({ description: 'Rate, KB/s (1 KB = 1000 bytes, as in Toxiproxy).' }),
});
export type BandwidthAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`bandwidth`: passes data through at a limited rate (Toxiproxy `toxics/bandwidth.go`). Large chunks are sent in 100 ms slices; the time a slice needs is carried over, so the average rate holds.',
  yaml: '- { type: bandwidth, stream: downstream, attributes: { rate: 100 } }   # 100 KB/s',
});

/** Slice length, ms of transfer: Toxiproxy sends large chunks in 100 ms intervals. */
const SLICE_MS = 100;

export class BandwidthToxic implements Toxic {
  constructor(
    /** Rate, KB/s, which is also bytes per ms. */
    readonly rateKBps: number,
  ) {}

  async pipe(stub: ToxicStub): Promise<void> {
    const bytesPerMs = this.rateKBps;
    const sliceBytes = Math.max(1, bytesPerMs * SLICE_MS);
    /** When the "wire" is free again, ms on the stub's clock. */
    let freeAtMs = stub.now();
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.end();
        return;
      }
      let data = c.data;
      while (data.length > 0) {
        const slice = data.subarray(0, sliceBytes);
        freeAtMs = Math.max(freeAtMs, stub.now()) + slice.length / bytesPerMs;
        if (!(await stub.sleepUntil(freeAtMs))) {
          stub.write({ data, receivedAtMs: c.receivedAtMs }); // Don't drop any data on the floor
          return;
        }
        stub.write({ data: slice, receivedAtMs: c.receivedAtMs });
        data = data.subarray(slice.length);
      }
    }
  }
}

export function create(a: BandwidthAttributes): BandwidthToxic {
  return new BandwidthToxic(a.rate);
}
