import { z } from 'zod';
import { durationMs } from '../../timeline/duration.js';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `timeout`: stops all data from getting through and closes the connection after `timeout` ms; with 0 the
 * connection stays open, silent, until the toxic is removed (Toxiproxy `toxics/timeout.go`). Data sent
 * meanwhile is dropped, so removing the toxic closes the connections it affected (Toxiproxy's
 * `Cleanup`): their byte streams are no longer whole.
 *
 * ```yaml
 * - { type: timeout, stream: upstream, attributes: { timeout: 5000 } }
 * ```
 */
export const type = 'timeout';

export const attributes = z.strictObject({
  timeout: durationMs.meta({
    description: 'Close the connection after this long, ms; 0 = never (data is swallowed forever).',
  }),
});
export type TimeoutAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    "`timeout`: stops all data from getting through and closes the connection after `timeout` ms; with 0 the connection stays open, silent, until the toxic is removed (Toxiproxy `toxics/timeout.go`). Data sent meanwhile is dropped, so removing the toxic closes the connections it affected (Toxiproxy's `Cleanup`): their byte streams are no longer whole.",
  yaml: '- { type: timeout, stream: upstream, attributes: { timeout: 5000 } }',
});

export class TimeoutToxic implements Toxic {
  constructor(
    /** ms; 0 = never close. */
    readonly timeoutMs: number,
  ) {}

  async pipe(stub: ToxicStub): Promise<void> {
    if (this.timeoutMs > 0) {
      void stub.sleep(this.timeoutMs).then((elapsed) => {
        if (elapsed) stub.close();
      });
    }
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.close();
        return;
      }
      // Drop the data on the ground.
    }
  }

  cleanup(stub: ToxicStub): void {
    stub.close();
  }
}

export function create(a: TimeoutAttributes): TimeoutToxic {
  return new TimeoutToxic(a.timeout);
}
