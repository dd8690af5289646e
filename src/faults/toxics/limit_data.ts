import { z } from 'zod';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `limit_data`: passes `bytes` bytes, then closes the connection (Toxiproxy `toxics/limit_data.go`).
 * The count is per connection and direction and survives the toxic being interrupted.
 *
 * ```yaml
 * - { type: limit_data, stream: downstream, attributes: { bytes: 1024 } }
 * ```
 */
export const type = 'limit_data';

export const attributes = z.strictObject({
  bytes: z.int().nonnegative().meta({ description: 'Bytes passed before the connection is closed.' }),
});
export type LimitDataAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`limit_data`: passes `bytes` bytes, then closes the connection (Toxiproxy `toxics/limit_data.go`). The count is per connection and direction and survives the toxic being interrupted.',
  yaml: '- { type: limit_data, stream: downstream, attributes: { bytes: 1024 } }',
});

export interface LimitDataState {
  /** Bytes passed so far on this connection. */
  bytesTransmitted: number;
}

export class LimitDataToxic implements Toxic<LimitDataState> {
  constructor(
    /** Bytes before close. */
    readonly limitBytes: number,
  ) {}

  newState(): LimitDataState {
    return { bytesTransmitted: 0 };
  }

  async pipe(stub: ToxicStub<LimitDataState>): Promise<void> {
    const state = stub.state;
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.close();
        return;
      }
      const remaining = Math.max(0, this.limitBytes - state.bytesTransmitted);
      const data = remaining < c.data.length ? c.data.subarray(0, remaining) : c.data;
      if (data.length > 0) {
        stub.write(data === c.data ? c : { data, receivedAtMs: c.receivedAtMs });
        state.bytesTransmitted += data.length;
      }
      if (state.bytesTransmitted >= this.limitBytes) {
        stub.close();
        return;
      }
    }
  }
}

export function create(a: LimitDataAttributes): LimitDataToxic {
  return new LimitDataToxic(a.bytes);
}
