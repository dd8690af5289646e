import { z } from 'zod';
import { END, INTERRUPTED } from '../stream.js';
import type { ProxyControl, Toxic, ToxicStub } from '../toxic.js';
import { toxicConfig } from './config.js';

/**
 * `down`: the dependency is down, three ways (not in Toxiproxy, which disables the whole proxy instead):
 *
 * - `refuse`: the proxy stops listening; new connections get ECONNREFUSED, like a stopped process.
 *   Open connections are left alone (add `reset` too for a crash). Toxicity does not apply.
 * - `reset`: every connection, open or new, is reset (TCP RST) at once: clients see ECONNRESET. An
 *   outage that starts this way fails everything in flight at the same instant, which is what makes
 *   retry waves (Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
 * - `blackhole`: connections are accepted and nothing gets through in either direction; nothing is
 *   closed either. Data is held, not dropped (TCP would retransmit it), and flows once the toxic is
 *   removed. Clients see only their own timeouts.
 *
 * Always acts on both streams.
 *
 * ```yaml
 * - { type: down, attributes: { mode: reset } }
 * ```
 */
export const type = 'down';

export const attributes = z.strictObject({
  mode: z
    .enum(['refuse', 'reset', 'blackhole'])
    .meta({ description: '`refuse` new connections, `reset` all, or `blackhole` all.' }),
});
export type DownAttributes = z.output<typeof attributes>;
export type DownMode = DownAttributes['mode'];
export const config = toxicConfig(type, attributes, { defaultStream: 'both', streams: ['both'] }).meta({
  description:
    '`down`: the dependency is down, three ways (not in Toxiproxy, which disables the whole proxy instead):',
  yaml: '- { type: down, attributes: { mode: reset } }',
});

export class DownToxic implements Toxic {
  constructor(readonly mode: DownMode) {}

  async pipe(stub: ToxicStub): Promise<void> {
    switch (this.mode) {
      case 'reset':
        stub.reset();
        return;
      case 'blackhole':
        // Read nothing: data waits in the input (the link pushes back on the sender) until removal.
        await stub.interrupted();
        return;
      case 'refuse':
        for (;;) {
          const c = await stub.read();
          if (c === INTERRUPTED) return;
          if (c === END) {
            stub.end();
            return;
          }
          stub.write(c);
        }
    }
  }

  async activate(proxy: ProxyControl): Promise<() => Promise<void>> {
    if (this.mode !== 'refuse') return async () => {};
    await proxy.stopListening();
    return () => proxy.startListening();
  }
}

export function create(a: DownAttributes): DownToxic {
  return new DownToxic(a.mode);
}
