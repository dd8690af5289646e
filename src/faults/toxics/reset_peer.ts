import { z } from 'zod';
import { durationMs } from '../../timeline/duration.js';
import { END, INTERRUPTED } from '../stream.js';
import type { Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `reset_peer`: "connection reset by peer". When data (or the end of the stream) first arrives in this
 * direction, wait `timeout` ms, then reset both sockets with a TCP RST (`socket.resetAndDestroy()`, the
 * equivalent of Toxiproxy's `SetLinger(0)` + `Close()`); unsent data is discarded (Toxiproxy
 * `toxics/reset_peer.go`). With 0 the reset is immediate.
 *
 * ```yaml
 * - { type: reset_peer, stream: upstream, attributes: { timeout: 100 } }
 * ```
 */
export const type = 'reset_peer';

export const attributes = z
  .strictObject({
    timeout: durationMs
      .default(0)
      .meta({ description: 'Wait after the first data before the reset, ms; 0 = at once.' }),
  })
  .prefault({});
export type ResetPeerAttributes = z.output<typeof attributes>;
export const config = toxicConfig(type, attributes).meta({
  description:
    '`reset_peer`: "connection reset by peer". When data (or the end of the stream) first arrives in this direction, wait `timeout` ms, then reset both sockets with a TCP RST (`socket.resetAndDestroy()`, the equivalent of Toxiproxy\'s `SetLinger(0)` + `Close()`); unsent data is discarded (Toxiproxy `toxics/reset_peer.go`). With 0 the reset is immediate.',
  yaml: '- { type: reset_peer, stream: upstream, attributes: { timeout: 100 } }',
});

export class ResetPeerToxic implements Toxic {
  constructor(
    /** ms after the first data. */
    readonly timeoutMs: number,
  ) {}

  async pipe(stub: ToxicStub): Promise<void> {
    const first = await stub.read();
    if (first === INTERRUPTED) return;
    if (!(await stub.sleep(this.timeoutMs))) {
      // Interrupted before the reset: let the held data through after all.
      if (first === END) stub.end();
      else stub.write(first);
      return;
    }
    stub.reset();
  }
}

export function create(a: ResetPeerAttributes): ResetPeerToxic {
  return new ResetPeerToxic(a.timeout);
}
