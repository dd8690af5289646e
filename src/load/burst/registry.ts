import { barrier } from './barrier.js';
import { lastByte } from './last-byte.js';
import { naive } from './naive.js';
import type { SenderFactory, SyncMode } from './sender.js';
import { singlePacket } from './single-packet.js';

/** Sync modes by the name a scenario uses in `load.sync`. Adding a mode is one file and one line here. */
export const senders: Partial<Record<SyncMode, SenderFactory>> = {
  naive,
  barrier,
  'last-byte': lastByte,
  'single-packet': singlePacket,
};

export function senderFor(mode: SyncMode): SenderFactory {
  const factory = senders[mode];
  if (!factory) throw new Error(`sync mode '${mode}' is not available`);
  return factory;
}
