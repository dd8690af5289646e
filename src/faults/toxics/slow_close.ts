import { z } from 'zod';
import { durationMs } from '../../timeline/duration.js';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `slow_close`: delays the end of the stream (the FIN) by `delay` ms; data passes untouched
 * (Toxiproxy `toxics/slow_close.go`). A peer that waits for the close (connection: close responses,
 * PostgreSQL terminate) hangs that long.
 *
 * ```yaml
 * - { type: slow_close, stream: downstream, attributes: { delay: 2000 } }
 * ```
 */
export const type = 'slow_close';

export const attributes = z.strictObject({
  delay: durationMs.meta({ description: 'Delay before the close is passed on, ms.' }),
});
export type SlowCloseAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`slow_close`: delays the end of the stream (the FIN) by `delay` ms; data passes untouched (Toxiproxy `toxics/slow_close.go`). A peer that waits for the close (connection: close responses, PostgreSQL terminate) hangs that long.',
  yaml: '- { type: slow_close, stream: downstream, attributes: { delay: 2000 } }',
});

export class SlowCloseToxic implements Toxic {
  constructor(
    /** Delay before the close, ms. */
    readonly delayMs: number,
  ) {}

  async pipe(stub: ToxicStub): Promise<void> {
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        // Interrupted while waiting: return; the end stays in the input and the next stage gets it.
        if (await stub.sleep(this.delayMs)) stub.end();
        return;
      }
      stub.write(c);
    }
  }
}

export function create(a: SlowCloseAttributes): SlowCloseToxic {
  return new SlowCloseToxic(a.delay);
}
