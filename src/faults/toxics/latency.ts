import { z } from 'zod';
import { durationMs } from '../../timeline/duration.js';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `latency`: passes data through with a delay of latency ± jitter (Toxiproxy `toxics/latency.go`).
 * The delay counts from when the proxy read the chunk, so a burst of chunks is delayed once, not once per
 * chunk, and order is kept.
 *
 * ```yaml
 * - { type: latency, stream: downstream, attributes: { latency: 500, jitter: 50 } }
 * ```
 */
export const type = 'latency';

export const attributes = z.strictObject({
  latency: durationMs.meta({ description: 'Added delay, ms.' }),
  jitter: durationMs.default(0).meta({
    description:
      'Random variation, ms: each chunk waits uniform [latency − jitter, latency + jitter), at least 0.',
  }),
});
export type LatencyAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`latency`: passes data through with a delay of latency ± jitter (Toxiproxy `toxics/latency.go`). The delay counts from when the proxy read the chunk, so a burst of chunks is delayed once, not once per chunk, and order is kept.',
  yaml: '- { type: latency, stream: downstream, attributes: { latency: 500, jitter: 50 } }',
});

export class LatencyToxic implements Toxic {
  constructor(
    /** Added delay, ms. */
    readonly latencyMs: number,
    /** ± variation, ms. */
    readonly jitterMs: number,
  ) {}

  /** The delay for one chunk, ms, drawn from `random` (Toxiproxy: `latency + rand(2·jitter) − jitter`). */
  delayMs(random: () => number): number {
    if (this.jitterMs <= 0) return this.latencyMs;
    return Math.max(0, this.latencyMs + Math.floor(random() * 2 * this.jitterMs) - this.jitterMs);
  }

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.end();
        return;
      }
      const due = c.receivedAtMs + this.delayMs(() => stub.random());
      if (!(await stub.sleepUntil(due))) {
        stub.write(c); // Don't drop any data on the floor
        return;
      }
      stub.write(c);
    }
  }
}

export function create(a: LatencyAttributes): LatencyToxic {
  return new LatencyToxic(a.latency, a.jitter);
}
