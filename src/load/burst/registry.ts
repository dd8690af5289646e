import { barrier } from './barrier.js';
import { naive } from './naive.js';
import type { SenderFactory, SyncMode } from './sender.js';

/**
 * Sync modes by the name a scenario uses in `load.sync`. Adding a mode is one file and one line here.
 * `last-byte` and `single-packet` land with the synchronized-bursts work; until then they are absent
 * and the scenario schema only accepts the modes listed here.
 */
export const senders: Partial<Record<SyncMode, SenderFactory>> = {
  naive,
  barrier,
};

export function senderFor(mode: SyncMode): SenderFactory {
  const factory = senders[mode];
  if (!factory) throw new Error(`sync mode '${mode}' is not available`);
  return factory;
}
