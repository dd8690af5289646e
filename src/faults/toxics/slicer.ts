import { z } from 'zod';
import { randomInt } from '../random.js';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `slicer`: slices data into smaller packets, optionally delaying between them, to imitate real TCP
 * delivery (Toxiproxy `toxics/slicer.go`). Exercises parsers that assume a message arrives in one read.
 *
 * ```yaml
 * - { type: slicer, stream: downstream, attributes: { average_size: 64, size_variation: 32, delay: 100 } }
 * ```
 */
export const type = 'slicer';

export const attributes = z
  .strictObject({
    average_size: z.int().positive().meta({ description: 'Average slice size, bytes.' }),
    size_variation: z
      .int()
      .nonnegative()
      .default(0)
      .meta({ description: '± variation of slice sizes, bytes; must be less than `average_size`.' }),
    delay: z
      .int()
      .nonnegative()
      .default(0)
      .meta({ description: 'Delay between slices, µs (timers resolve to 1 ms, so small delays round up).' }),
  })
  .refine((a) => a.size_variation < a.average_size, {
    message: 'size_variation must be less than average_size',
    path: ['size_variation'],
  });
export type SlicerAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`slicer`: slices data into smaller packets, optionally delaying between them, to imitate real TCP delivery (Toxiproxy `toxics/slicer.go`). Exercises parsers that assume a message arrives in one read.',
  yaml: '- { type: slicer, stream: downstream, attributes: { average_size: 64, size_variation: 32, delay: 100 } }',
});

export class SlicerToxic implements Toxic {
  constructor(
    /** Average slice, bytes. */
    readonly averageSizeBytes: number,
    /** ± variation, bytes. */
    readonly sizeVariationBytes: number,
    /** Pause between slices, µs. */
    readonly delayUs: number,
  ) {}

  /**
   * Offsets that cut [start, end) into slices, as pairs (Toxiproxy's `chunk`): split near the middle
   * ± variation and recurse until a piece is within `variation` of the average size.
   */
  chunk(start: number, end: number, random: () => number): number[] {
    if (end - start - this.averageSizeBytes <= this.sizeVariationBytes) return [start, end];
    const v = this.sizeVariationBytes;
    const mid = start + Math.floor((end - start) / 2) + (v > 0 ? randomInt(random, 2 * v) - v : 0);
    return [...this.chunk(start, mid, random), ...this.chunk(mid, end, random)];
  }

  async pipe(stub: ToxicStub): Promise<void> {
    const rand = () => stub.random();
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.end();
        return;
      }
      const cuts = this.chunk(0, c.data.length, rand);
      for (let i = 1; i < cuts.length; i += 2) {
        stub.write({ data: c.data.subarray(cuts[i - 1], cuts[i]), receivedAtMs: c.receivedAtMs });
        const more = i + 1 < cuts.length;
        if (more && this.delayUs > 0 && !(await stub.sleep(this.delayUs / 1000))) {
          stub.write({ data: c.data.subarray(cuts[i]), receivedAtMs: c.receivedAtMs }); // keep the rest
          return;
        }
      }
    }
  }
}

export function create(a: SlicerAttributes): SlicerToxic {
  return new SlicerToxic(a.average_size, a.size_variation, a.delay);
}
